using System.Globalization;
using System.Text;
using MthpSim.Core;
using MthpSim.Core.Stats;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Runtime;

/// <summary>Renders <c>print</c> statements for people, in the kernel's own text formats where it has one.</summary>
public static class ScenarioPrinter
{
    public static string Print(ScenarioSession s, PrintStmt p)
    {
        var k = s.Kernel;
        var sb = new StringBuilder();
        switch (p.Target)
        {
            case PrintObservable po:
            {
                var v = ObservableEvaluator.Evaluate(s, po.Observable);
                sb.Append(po.Observable).Append(" = ").Append(v);
                if (!v.IsWord && ObservableEvaluator.IsKbValued(po.Observable)) sb.Append(" kB");
                sb.Append('\n');
                break;
            }
            case PrintView { Kind: ViewKind.Smaps } v:
                sb.Append(k.RenderSmaps(VmasOf(s, v, p.Span)));
                break;
            case PrintView { Kind: ViewKind.Thpmaps } v:
            {
                var f = v.Thpmaps ?? ThpmapsFormat.Default;
                var cont = f.Cont.Select(size => System.Numerics.BitOperations.Log2((ulong)(size / k.Geo.PageSize))).ToList();
                sb.Append(k.RenderThpmaps(s.Process(v.Process!), VmasOf(s, v, p.Span), f.Rollup, f.IncEmpty, cont));
                break;
            }
            case PrintView { Kind: ViewKind.KhugepagedTrace } v:
                sb.Append(k.RenderKhugepagedTrace(v.Extended));
                break;
            case PrintView { Kind: ViewKind.Stats }:
                sb.Append(StatsTable(k));
                break;
            case PrintView { Kind: ViewKind.Vmstat }:
                sb.Append(k.RenderVmstat());
                break;
            case PrintView { Kind: ViewKind.Meminfo }:
                sb.Append(k.RenderMeminfo());
                break;
            case PrintView { Kind: ViewKind.Buddyinfo }:
                sb.Append(k.RenderBuddyinfo());
                break;
            case PrintView { Kind: ViewKind.Pagetypeinfo }:
                sb.Append(k.RenderPagetypeinfo());
                break;
            case PrintView { Kind: ViewKind.Cost }:
                sb.Append(CostTable(s));
                break;
            case PrintView { Kind: ViewKind.Tlb }:
                sb.Append(TlbTable(s));
                break;
            case PrintView { Kind: ViewKind.Sysfs }:
                foreach (var path in k.SysfsFiles(includeStats: false))
                    sb.Append(path).Append(": ").Append(k.SysfsRead(path)).Append('\n');
                break;
        }
        return sb.ToString();
    }

    static IEnumerable<MthpSim.Core.Vma.Vma> VmasOf(ScenarioSession s, PrintView v, SourceSpan at)
    {
        var mm = s.Process(v.Process!);
        if (v.Region == null) return mm.Vmas.ToList();
        var r = s.Region(v.Process!, v.Region, at);
        return mm.Intersecting(r.Start, r.Start + r.Length).ToList();
    }

    /// <summary>Every per-size counter: one row per counter, one column per size.</summary>
    public static string StatsTable(Kernel k)
    {
        var orders = Enumerable.Range(1, k.Geo.PmdOrder).Where(o => k.SysfsRead($"{k.SizeDir(o)}/stats/split") != null).ToList();
        var sb = new StringBuilder();
        sb.Append("".PadRight(28));
        foreach (var o in orders) sb.Append((k.Geo.SizeOfOrderKb(o) + "kB").PadLeft(9));
        sb.Append('\n');
        for (int i = 0; i < (int)MthpStat.Count; i++)
        {
            string name = StatNames.Of((MthpStat)i);
            sb.Append(name.PadRight(28));
            foreach (var o in orders)
            {
                string? v = k.SysfsRead($"{k.SizeDir(o)}/stats/{name}");
                sb.Append((v ?? "-").PadLeft(9));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Estimated kernel CPU time per process (exited ones included) and operation, in µs, with the
    /// kernel threads' own row; operations no process was charged for are left out.
    /// </summary>
    public static string CostTable(ScenarioSession s)
    {
        var k = s.Kernel;
        var rows = s.NamedProcesses.Select(p => (Name: p.Name, Work: p.Mm.Work)).Append((Name: "(kernel)", Work: k.KernelThreadsWork)).ToList();
        var ops = Enum.GetValues<MthpSim.Core.Cost.CostOp>().Where(op => rows.Any(r => k.CostModel.Ns(r.Work, op) > 0)).ToList();
        int nameWidth = Math.Max(8, rows.Max(r => r.Name.Length) + 2);
        var sb = new StringBuilder();
        sb.Append("kernel CPU time estimated by the cost model, in µs (docs/cost-model.md)\n");
        sb.Append("process".PadRight(nameWidth));
        foreach (var op in ops) sb.Append(MthpSim.Core.Cost.CostOpNames.Name(op).PadLeft(11));
        sb.Append("total".PadLeft(12)).Append('\n');
        foreach (var (name, work) in rows)
        {
            sb.Append(name.PadRight(nameWidth));
            foreach (var op in ops) sb.Append(Us(k.CostModel.Ns(work, op)).PadLeft(11));
            sb.Append(Us(k.CostModel.Ns(work)).PadLeft(12)).Append('\n');
        }
        return sb.ToString();
    }

    static string Us(double ns) => (ns / 1000).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>TLB entries of every live process by the size they map, and the share of its mapped memory TLBs of 64 and 1,536 entries reach (docs/cost-model.md).</summary>
    public static string TlbTable(ScenarioSession s)
    {
        var k = s.Kernel;
        var rows = s.NamedProcesses.Where(p => !p.Mm.Exited).Select(p => (p.Name, Tlb: k.TlbEntriesOf(p.Mm))).ToList();
        string small = $"{k.Geo.PageSize >> 10}K", pmd = $"{k.Geo.PmdSize >> 20}M";
        int nameWidth = Math.Max(8, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length) + 2);
        var sb = new StringBuilder();
        bool cont = k.Geo.ContPtes > 0;
        string contHead = cont ? $"{(k.Geo.ContPtes * k.Geo.PageSize) >> 10}K cont" : "";
        sb.Append(cont
            ? "TLB entries for the present mappings of each process (one per PTE, one per contiguous-bit block, one per PMD), and what 64 and 1536 entries reach\n"
            : "TLB entries for the present mappings of each process (one per PTE, one per PMD), and what 64 and 1536 entries reach\n");
        sb.Append("process".PadRight(nameWidth)).Append($"{small + " entries",12}");
        if (cont) sb.Append($"{contHead,12}");
        sb.Append($"{pmd + " entries",12}{"total",10}{"mapped kB",12}{"reach 64",10}{"reach 1536",12}\n");
        foreach (var (name, t) in rows)
        {
            sb.Append(name.PadRight(nameWidth)).Append(CultureInfo.InvariantCulture, $"{t.BasePages,12}");
            if (cont) sb.Append(CultureInfo.InvariantCulture, $"{t.ContBlocks,12}");
            sb.Append(CultureInfo.InvariantCulture, $"{t.PmdMappings,12}{t.Total,10}{t.MappedBytes >> 10,12}");
            sb.Append(Share(t, 64).PadLeft(10)).Append(Share(t, 1536).PadLeft(12)).Append('\n');
        }
        return sb.ToString();

        static string Share(MthpSim.Core.Arch.TlbEntries t, long entries) =>
            t.MappedBytes == 0 ? "-" : (100.0 * t.ReachBytes(entries) / t.MappedBytes).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    }
}
