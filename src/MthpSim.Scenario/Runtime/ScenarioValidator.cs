using MthpSim.Core;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Runtime;

/// <summary>
/// Checks a parsed scenario against the model before anything runs: observable names the model
/// does not know (smaps fields, vmstat and meminfo names, sysfs paths, thpmaps keys) and words
/// compared with numbers. Each problem is an error at the word's position, so the file is refused
/// with exit status 2.
/// </summary>
public static class ScenarioValidator
{
    public static List<Diagnostic> Validate(Kernel k, IReadOnlyList<Statement> statements)
    {
        var errors = new List<Diagnostic>();
        void Err(SourceSpan at, string msg) => errors.Add(new Diagnostic(at.File, at.Line, at.Column, msg));
        var thpmapsKeys = ObservableEvaluator.ThpmapsKeys(k);
        foreach (var s in statements)
        {
            var obs = s switch
            {
                ExpectStmt e => e.Lhs,
                PrintStmt { Target: PrintObservable po } => po.Observable,
                _ => null,
            };
            if (s is SysfsWriteStmt sw && k.SysfsRead(sw.Path) == null)
                Err(sw.Span, $"no such file /sys/kernel/mm/transparent_hugepage/{sw.Path}{Suggest(sw.Path, k.SysfsFiles())}");
            if (s is PolicyStmt pol && MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Create(pol.Value) == null)
                Err(pol.Span, $"unknown collapse policy {Echo.Quote(pol.Value)} (known: {string.Join(", ", MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Names)}){Suggest(pol.Value, MthpSim.Core.Khugepaged.Policies.CollapsePolicies.Names)}; a design of one's own is loaded with --policy-assembly");
            if (s is PrintStmt { Target: PrintView { Thpmaps: { } tf } } ps)
                foreach (long size in tf.Cont.Where(size => size < 2L * k.Geo.PageSize || size > k.Geo.PmdSize))
                    Err(ps.Span, $"cont={size >> 10}K is not a block size thpmaps can count here: from 2 pages ({2 * k.Geo.PageSize >> 10}K) to the PMD size ({k.Geo.PmdSize >> 10}K)");
            if (s is PrctlStmt pr && pr.Option != "thp_disable")
                Err(pr.Span, $"unknown prctl {Echo.Quote(pr.Option)} (expected thp_disable)");
            if (obs == null) continue;
            switch (obs)
            {
                case SysfsObs so when k.SysfsRead(so.Path) == null:
                    Err(so.NameSpan, $"no such file /sys/kernel/mm/transparent_hugepage/{so.Path}{Suggest(so.Path, k.SysfsFiles())}");
                    break;
                case VmstatObs vo when k.Vmstat(vo.Name) == null && Array.IndexOf(Kernel.LruVmstatNames, vo.Name) >= 0:
                    Err(vo.NameSpan, $"vmstat {Echo.Quote(vo.Name)} needs a swap device: the model keeps the LRU lists only where reclaim can swap (machine swap=SIZE)");
                    break;
                case VmstatObs vo when k.Vmstat(vo.Name) == null:
                    Err(vo.NameSpan, $"unknown vmstat counter {Echo.Quote(vo.Name)}{Suggest(vo.Name, k.VmstatNames())}");
                    break;
                case MeminfoObs mo when k.Meminfo(mo.Name) == null && Array.IndexOf(Kernel.LruMeminfoFields, mo.Name) >= 0:
                    Err(mo.NameSpan, $"meminfo '{mo.Name}' needs a swap device: the model keeps the LRU lists only where reclaim can swap (machine swap=SIZE)");
                    break;
                case MeminfoObs mo when k.Meminfo(mo.Name) == null:
                    Err(mo.NameSpan, $"unknown meminfo field {Echo.Quote(mo.Name)}{Suggest(mo.Name, Kernel.MeminfoFields)}");
                    break;
                case SmapsObs sm when !ObservableEvaluator.SmapsFieldNames(k).Contains(sm.Field):
                    Err(sm.NameSpan, $"unknown smaps field {Echo.Quote(sm.Field)}{Suggest(sm.Field, ObservableEvaluator.SmapsFieldNames(k))}");
                    break;
                case ThpmapsObs tm when !thpmapsKeys.Contains(tm.Key):
                    Err(tm.NameSpan, $"unknown thpmaps key {Echo.Quote(tm.Key)}{Suggest(tm.Key, thpmapsKeys)}");
                    break;
            }
            if (s is ExpectStmt ex && ex.Rhs is WordOperand w && !ObservableEvaluator.IsWordValued(obs))
                Err(ex.Span, $"'{obs}' is a number; it cannot be compared with the word {Echo.Quote(w.Word)}");
            if (s is ExpectStmt ex2 && ex2.Rhs is NumberOperand && obs is FolioObs { Attr: FolioAttr.Kind })
                Err(ex2.Span, $"'{obs}' is a word (none, anon, zero, hugezero, shmem, swap); compare it with a word");
        }
        return errors;
    }

    static string Suggest(string name, IEnumerable<string> candidates) => Suggestions.DidYouMean(name, candidates);
}
