namespace MthpSim.Core.Stats;

/// <summary>
/// Event counters and per-order stats of one simulated machine (count_vm_event, count_mthp_stat).
/// Flat arrays: no allocation on the hot path.
/// </summary>
public sealed class Counters
{
    readonly long[] _vm = new long[(int)VmEvent.Count];
    readonly long[] _mthp;
    readonly int _maxOrder;

    public Counters(int pmdOrder)
    {
        _maxOrder = pmdOrder;
        _mthp = new long[(pmdOrder + 1) * (int)MthpStat.Count];
    }

    public void Count(VmEvent e, long n = 1) => _vm[(int)e] += n;
    public long Get(VmEvent e) => _vm[(int)e];

    /// <summary>models count_mthp_stat()/mod_mthp_stat(): orders 0 and above PMD are ignored.</summary>
    public void Count(int order, MthpStat s, long n = 1)
    {
        if (order <= 0 || order > _maxOrder) return;
        _mthp[order * (int)MthpStat.Count + (int)s] += n;
    }

    public long Get(int order, MthpStat s) =>
        order <= 0 || order > _maxOrder ? 0 : _mthp[order * (int)MthpStat.Count + (int)s];
}
