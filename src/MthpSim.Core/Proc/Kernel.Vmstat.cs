using System.Text;
using MthpSim.Core.Proc;
using MthpSim.Core.Reclaim;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// mm/vmstat.c: the /proc/vmstat items the model keeps.
public sealed partial class Kernel
{
    /// <summary>One /proc/vmstat item; null for a name this machine does not keep.</summary>
    public long? Vmstat(string name)
    {
        switch (name)
        {
            case "nr_free_pages": return Buddy.FreePages;
            case "nr_anon_pages": return NrAnonMapped;
            case "nr_page_table_pages": return NrPageTablePages;
            // Shown in THPs, as vmstat_item_print_in_thp() does.
            case "nr_anon_transparent_hugepages": return NrAnonThps >> Geo.PmdOrder;
            case "nr_mapped": return NrFileMapped;
            case "nr_shmem": return NrShmem;
            case "nr_swapcached": return SwapCache?.Pages ?? 0;
            case "nr_shmem_hugepages": return NrShmemThps >> Geo.PmdOrder;
            case "nr_shmem_pmdmapped": return NrShmemPmdMapped >> Geo.PmdOrder;
        }
        if (Lru == null && Array.IndexOf(LruVmstatNames, name) >= 0) return null;
        switch (name)
        {
            case "nr_inactive_anon": return NodeLruPages(LruList.InactiveAnon);
            case "nr_active_anon": return NodeLruPages(LruList.ActiveAnon);
            case "nr_inactive_file": return NodeLruPages(LruList.InactiveFile);
            case "nr_active_file": return NodeLruPages(LruList.ActiveFile);
        }
        return StatNames.TryVmEvent(name, out var e) ? Stats.Get(e) : null;
    }

    static readonly string[] VmstatGauges =
    [
        "nr_free_pages", "nr_anon_pages", "nr_page_table_pages", "nr_anon_transparent_hugepages", "nr_mapped",
        "nr_shmem", "nr_swapcached", "nr_shmem_hugepages", "nr_shmem_pmdmapped",
        "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
    ];

    static readonly string[] VmstatAllNames = VmstatGauges
        .Concat(Enumerable.Range(0, (int)VmEvent.Count).Select(i => StatNames.Of((VmEvent)i)))
        .OrderBy(VmstatOrder.Of).ToArray();

    /// <summary>The items this machine keeps, in /proc/vmstat's order.</summary>
    public IEnumerable<string> VmstatNames() => VmstatAllNames.Where(n => Lru != null || Array.IndexOf(LruVmstatNames, n) < 0);

    /// <summary>/proc/vmstat as the kernel prints it (vmstat_show(): name, a space, the value), for the items this machine keeps.</summary>
    public string RenderVmstat()
    {
        var sb = new StringBuilder();
        foreach (var name in VmstatNames()) sb.Append(name).Append(' ').Append(Vmstat(name)!.Value).Append('\n');
        return sb.ToString();
    }
}
