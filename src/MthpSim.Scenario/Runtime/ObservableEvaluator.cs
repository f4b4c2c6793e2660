using System.Globalization;
using MthpSim.Core;
using MthpSim.Core.Sysfs;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Runtime;

/// <summary>A value an observable has: a number or a word.</summary>
public readonly record struct ObservedValue(long Number, string? Word)
{
    public bool IsWord => Word != null;
    public override string ToString() => Word ?? Number.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Evaluates observables (the left side of <c>expect</c>, and <c>print</c>) against the model.</summary>
public static class ObservableEvaluator
{
    public static IReadOnlyCollection<string> SmapsFieldNames(Kernel k)
    {
        var names = new HashSet<string>(Kernel.SmapsFields);
        if (k.ProtectionKeys) names.Add("ProtectionKey");
        return names;
    }

    public static HashSet<string> ThpmapsKeys(Kernel k)
    {
        var mm = new MthpSim.Core.Vma.MmStruct(0, "probe", new MthpSim.Core.PageTable.PageTables(k.Geo.PmdOrder, pudLevel: true));
        return new HashSet<string>(k.Thpmaps(mm, 0, 0).Keys);
    }

    public static bool IsWordValued(Observable o) => o is SysfsObs or FolioObs { Attr: FolioAttr.Kind } or FileObs { Attr: FileAttr.FolioKind };

    /// <summary>Whether the observable is in kB, so that size-suffixed numbers compare as kB.</summary>
    public static bool IsKbValued(Observable o) =>
        o is MeminfoObs or ThpmapsObs or ContPteObs or CgroupObs or FileObs { Attr: FileAttr.Blocks } || (o is SmapsObs s && s.Field is not ("THPeligible" or "ProtectionKey"));

    public static ObservedValue Evaluate(ScenarioSession s, Observable o)
    {
        var k = s.Kernel;
        switch (o)
        {
            case RcObs:
                return new(s.Rc, null);
            case SysfsObs so:
            {
                string text = k.SysfsRead(so.Path)!;
                if (SysfsParse.SelectedWord(text) is string word) return new(0, word);
                return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? new(v, null) : new(0, text);
            }
            case VmstatObs vo:
                return new(k.Vmstat(vo.Name)!.Value, null);
            case MeminfoObs mo:
                return new(k.Meminfo(mo.Name)!.Value, null);
            case SmapsObs sm:
                return new(Smaps(s, sm), null);
            case ThpmapsObs tm:
            {
                var r = s.Region(tm.Process, tm.Region, tm.Span);
                return new(k.Thpmaps(s.Process(tm.Process), r.Start, r.Start + r.Length)[tm.Key], null);
            }
            case FolioObs fo:
            {
                var mm = s.Process(fo.Process);
                ulong addr = s.Address(fo.Process, fo.Region, fo.Offset, fo.Span);
                return fo.Attr == FolioAttr.Order
                    ? new(k.FolioOrderAt(mm, addr), null)
                    : new(0, k.FolioKindAt(mm, addr).ToString().ToLowerInvariant());
            }
            case FileObs fo:
            {
                var f = s.File(fo.File, fo.Span);
                return fo.Attr switch
                {
                    FileAttr.Size => new(f.Size, null),
                    FileAttr.Blocks => new(k.FileBlocksKb(f), null),
                    FileAttr.FolioOrder => new(k.FileFolioOrder(f, fo.Offset), null),
                    _ => new(0, k.FileEntryKind(f, fo.Offset)),
                };
            }
            case FaultCountObs fc:
            {
                var mm = s.Process(fc.Process);
                return new(fc.Major ? mm.MajFlt : mm.MinFlt, null);
            }
            case UffdFaultsObs uo:
                return new(s.Kernel.UffdFaults(s.Process(uo.Process)), null);
            case ContPteObs co:
            {
                var r = s.Region(co.Process, co.Region, co.Span);
                return new(k.ContPteKb(s.Process(co.Process), r.Start, r.Start + r.Length), null);
            }
            case TlbObs to:
            {
                var tlb = k.TlbEntriesOf(s.Process(to.Process));
                return new(to.Entries is long n ? tlb.ReachBytes(n) >> 10 : tlb.Total, null);
            }
            case CostObs co:
                return new((long)Math.Round(k.CostNs(s.Process(co.Process), co.Op) / 1000, MidpointRounding.AwayFromZero), null);
            case WorkObs wo:
            {
                var work = s.Process(wo.Process).Work;
                return new(wo.Op is MthpSim.Core.Cost.CostOp op ? work[op, wo.Unit] : work.Total(wo.Unit), null);
            }
            case AliveObs ao:
                return new(s.Process(ao.Process).Exited ? 0 : 1, null);
            case CgroupObs co:
            {
                var cg = s.Cgroup(co.Cgroup);
                return new((co.Max ? cg.MaxUsagePages : cg.UsagePages) * (k.Geo.PageSize >> 10), null);
            }
            case IntactObs io when s.Process(io.Process).Exited:
                throw new ScenarioRuntimeException(io.Span, $"process '{io.Process}' was killed: it has no memory whose content could be intact");
            case IntactObs io:
            {
                var r = s.Region(io.Process, io.Region, io.Span);
                return new(k.Intact(s.Process(io.Process), r.Start, r.Start + r.Length) ? 1 : 0, null);
            }
        }
        throw new ScenarioRuntimeException(o.Span, $"cannot evaluate '{o}'");
    }

    /// <summary>Sums a field over the VMAs intersecting the region; THPeligible is the VMA of the first page.</summary>
    static long Smaps(ScenarioSession s, SmapsObs sm)
    {
        var k = s.Kernel;
        var mm = s.Process(sm.Process);
        var r = s.Region(sm.Process, sm.Region, sm.Span);
        if (sm.Field == "THPeligible")
        {
            var vma = mm.FindVma(r.Start);
            return vma != null && k.ThpEligible(vma) ? 1 : 0;
        }
        long total = 0;
        foreach (var vma in mm.Intersecting(r.Start, r.Start + r.Length))
        {
            var mss = k.SmapsGather(vma);
            total += k.SmapsField(vma, mss, sm.Field)!.Value;
        }
        return total;
    }
}
