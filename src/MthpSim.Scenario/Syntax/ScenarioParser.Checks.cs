using MthpSim.Core.Cost;

namespace MthpSim.Scenario.Syntax;

// expect and print, and the observables they share.
public sealed partial class ScenarioParser
{
    private const string ObservableExpected =
        "an observable (rc, sysfs PATH, vmstat NAME, meminfo NAME, file FILE ..., cgroup CG usage|max_usage, PROC alive|minflt|majflt|uffd faults, PROC cost [KIND], PROC work UNIT [KIND], PROC tlb entries|reach N, or PROC smaps|thpmaps|folio|intact REGION ...)";

    private const string PrintExpected =
        "what to print (an observable, stats, vmstat, meminfo, buddyinfo, pagetypeinfo, sysfs, cost, tlb, khugepaged trace, or PROC smaps|thpmaps [REGION] [OPTIONS])";

    private static readonly string[] PrintHeads = ["rc", "sysfs", "vmstat", "meminfo", "buddyinfo", "pagetypeinfo", "file", "cgroup", "stats", "cost", "tlb", "khugepaged"];

    private ExpectStmt ParseExpect(TokenCursor c, SourceSpan span, string text)
    {
        var lhs = ParseObservable(c, c.Next(ObservableExpected));
        var opToken = c.Next("a comparison operator (==, !=, <, <=, >, >=)");
        if (!Keywords.CompareOps.TryGetValue(opToken.Text, out var op))
            throw Error(opToken, $"expected a comparison operator (==, !=, <, <=, >, >=), got {Echo.Quote(opToken.Text)}"
                + (opToken.Text == "=" ? " (did you mean '=='?)" : ""));
        var rhs = ParseOperand(c.Next("a number or a word to compare with"), op);
        c.End("expect");
        return new ExpectStmt(span, text, lhs, op, rhs);
    }

    /// <summary>A word that starts like a number (digit, sign) must be a valid number, so "12x"
    /// is an error rather than a word that can never match. Words only make sense for ==/!=.</summary>
    private static Operand ParseOperand(Token t, CompareOp op)
    {
        var s = t.Text;
        bool numeric = char.IsAsciiDigit(s[0]) || s[0] is '-' or '+'
            || NumberSyntax.Errnos.ContainsKey(s);
        if (numeric)
        {
            var r = NumberSyntax.ParseInteger(s);
            if (!r.Ok)
                throw NumberError(t, r, "a number (e.g. 34, 2176kB, 0x1000, -EINVAL)", s, null);
            return new NumberOperand(r.Value, r.HasSizeSuffix);
        }
        if (op is not (CompareOp.Eq or CompareOp.Ne))
            throw new SyntaxError(t.Column, $"{Echo.Quote(s)} is a word; words can only be compared with == or !=");
        return new WordOperand(s);
    }

    private PrintStmt ParsePrint(TokenCursor c, SourceSpan span, string text)
    {
        var head = c.Next(PrintExpected);
        PrintTarget target;
        switch (head.Text)
        {
            // The bare forms are views; with a name they are the observables.
            case "stats":
                target = new PrintView(ViewKind.Stats, null, null);
                break;
            case "vmstat" when c.AtEnd:
                target = new PrintView(ViewKind.Vmstat, null, null);
                break;
            case "meminfo" when c.AtEnd:
                target = new PrintView(ViewKind.Meminfo, null, null);
                break;
            case "buddyinfo" when c.AtEnd:
                target = new PrintView(ViewKind.Buddyinfo, null, null);
                break;
            case "pagetypeinfo" when c.AtEnd:
                target = new PrintView(ViewKind.Pagetypeinfo, null, null);
                break;
            case "sysfs" when c.AtEnd:
                target = new PrintView(ViewKind.Sysfs, null, null);
                break;
            case "cost" when c.AtEnd && _bindings.Process("cost") is null:
                target = new PrintView(ViewKind.Cost, null, null);
                break;
            case "tlb" when c.AtEnd && _bindings.Process("tlb") is null:
                target = new PrintView(ViewKind.Tlb, null, null);
                break;
            case "khugepaged":
                OneOf(c, "what to print about khugepaged", ["trace"]);
                bool extended = !c.AtEnd && OneOf(c, "a trace option", ["extended"]) == "extended";
                target = new PrintView(ViewKind.KhugepagedTrace, null, null, Extended: extended);
                break;
            default:
                if (_bindings.Process(head.Text) is null && !Keywords.GlobalObservables.Contains(head.Text)
                    && !(c.Peek() is { } next && Keywords.ProcessObservables.Contains(next.Text)))
                    throw Error(head, $"expected {PrintExpected}, got {Echo.Quote(head.Text)}"
                        + Suggestions.DidYouMean(head.Text, PrintHeads.Concat(_bindings.LiveProcesses)));
                target = (PrintTarget?)ParsePrintProcessView(c, head) ?? new PrintObservable(ParseObservable(c, head));
                break;
        }
        c.End("print");
        return new PrintStmt(span, text, target);
    }

    /// <summary>print P smaps|thpmaps [REGION] (a view); null when the words form an observable
    /// (P smaps REGION FIELD, P folio ...), which the caller then parses.</summary>
    private PrintView? ParsePrintProcessView(TokenCursor c, Token head)
    {
        if (_bindings.Process(head.Text) is null || c.Peek() is not { Text: "smaps" or "thpmaps" } kindToken) return null;
        bool thpmaps = kindToken.Text == "thpmaps";
        // After the view word: an optional region, then (thpmaps only) the tool's options; anything
        // else makes the line an observable (P smaps REGION FIELD, P thpmaps REGION KEY).
        var rest = c.Line.Tokens.Skip(c.Line.Tokens.Count - c.Remaining + 1).ToList();
        int firstOption = rest.Count > 0 && (!IsThpmapsOption(rest[0].Text) || _bindings.Process(head.Text)!.Regions.ContainsKey(rest[0].Text)) ? 1 : 0;
        if (thpmaps ? rest.Skip(firstOption).Any(t => !IsThpmapsOption(t.Text)) : rest.Count > 1) return null;
        var process = RequireLiveProcess(head);
        c.Next("smaps or thpmaps");
        var region = firstOption == 1 ? RequireRegion(process, c.Next("a region")) : null;
        if (!thpmaps) return new PrintView(ViewKind.Smaps, process, region);
        bool rollup = false, incEmpty = false;
        var cont = new List<long>();
        while (c.TryNext(out var t))
        {
            if (t.Text == "rollup") rollup = rollup ? throw Error(t, "'rollup' is given twice") : true;
            else if (t.Text == "inc-empty") incEmpty = incEmpty ? throw Error(t, "'inc-empty' is given twice") : true;
            else
            {
                long size = Length(t, t.Text[5..], "cont");
                if ((size & (size - 1)) != 0) throw Error(t, $"cont must be a power-of-2 size (as thpmaps --cont), got {Echo.Quote(t.Text[5..])}");
                cont.Add(size);
            }
        }
        return new PrintView(ViewKind.Thpmaps, process, region, rollup || incEmpty || cont.Count > 0 ? new ThpmapsFormat(rollup, incEmpty, cont) : null);
    }

    static bool IsThpmapsOption(string word) => word is "rollup" or "inc-empty" || word.StartsWith("cont=", StringComparison.Ordinal);

    private Observable ParseObservable(TokenCursor c, Token head)
    {
        var span = c.Span(_file, head);
        switch (head.Text)
        {
            case "rc":
                return new RcObs(span);
            case "sysfs":
            {
                var path = SysfsPath(c);
                return new SysfsObs(span, path.Text, c.Span(_file, path));
            }
            case "vmstat":
            {
                var name = c.Next("a /proc/vmstat counter name (e.g. thp_fault_alloc)");
                return new VmstatObs(span, name.Text, c.Span(_file, name));
            }
            case "meminfo":
            {
                var name = c.Next("a /proc/meminfo field name (e.g. AnonHugePages)");
                return new MeminfoObs(span, name.Text, c.Span(_file, name));
            }
            case "file":
                return ParseFileObservable(c, span);
            case "cgroup":
                return ParseCgroupObservable(c, span);
        }

        if (_bindings.Process(head.Text) is null)
        {
            // 'q smaps ...' with an unknown q is a process problem, not a syntax one.
            if (c.Peek() is { } next && Keywords.ProcessObservables.Contains(next.Text))
                RequireLiveProcess(head);
            throw Error(head, $"expected {ObservableExpected}, got {Echo.Quote(head.Text)}"
                + Suggestions.DidYouMean(head.Text, Keywords.GlobalObservables.Concat(_bindings.LiveProcesses)));
        }

        // Whether a process still exists, and what its kernel work cost, are what can be asked of one that has exited.
        if (_bindings.Process(head.Text)!.ExitedLine != null && c.Peek() is { Text: "alive" or "cost" or "work" } after)
        {
            c.Next(after.Text);
            return after.Text == "alive" ? new AliveObs(span, head.Text) : ParseCostObservable(c, span, head.Text, after.Text == "work");
        }
        var process = RequireLiveProcess(head);
        var kind = OneOf(c, $"an observable of process {Echo.Quote(process)}", Keywords.ProcessObservables);
        if (kind == "alive") return new AliveObs(span, process);
        if (kind is "minflt" or "majflt") return new FaultCountObs(span, process, kind == "majflt");
        if (kind is "cost" or "work") return ParseCostObservable(c, span, process, kind == "work");
        if (kind == "tlb")
            return OneOf(c, "a TLB observable", ["entries", "reach"]) == "entries"
                ? new TlbObs(span, process, null)
                : new TlbObs(span, process, Count(c.Next("a number of TLB entries (e.g. 64, 1536)")));
        if (kind == "uffd")
        {
            OneOf(c, "a userfaultfd observable", ["faults"]);
            return new UffdFaultsObs(span, process);
        }
        var region = RequireRegion(process, c.Next("a region name"));
        switch (kind)
        {
            case "smaps":
            {
                var field = c.Next("an smaps field (e.g. Rss, AnonHugePages)");
                return new SmapsObs(span, process, region, field.Text, c.Span(_file, field));
            }
            case "contpte":
                return new ContPteObs(span, process, region);
            case "thpmaps":
            {
                var key = c.Next("a thpmaps key (e.g. anon-thp-pmd-aligned-2048kB)");
                return new ThpmapsObs(span, process, region, key.Text, c.Span(_file, key));
            }
            case "folio":
            {
                var off = Offset(c.Next(OffsetExpected));
                var attr = OneOf(c, "a folio attribute", ["order", "kind"]);
                return new FolioObs(span, process, region, off, attr == "order" ? FolioAttr.Order : FolioAttr.Kind);
            }
            default:
                return new IntactObs(span, process, region);
        }
    }

    /// <summary>The rest of <c>P cost [KIND]</c> or <c>P work UNIT [KIND]</c>.</summary>
    private Observable ParseCostObservable(TokenCursor c, SourceSpan span, string process, bool work)
    {
        KernelWork unit = default;
        if (work)
        {
            var u = OneOf(c, "a unit of kernel work", KernelWorkNames.All);
            KernelWorkNames.TryParse(u, out unit);
        }
        CostOp? op = null;
        // What follows is an operation kind, or (in an expect) the comparison.
        if (c.Peek() is { } next && !Keywords.CompareOps.ContainsKey(next.Text))
        {
            CostOpNames.TryParse(OneOf(c, "an operation kind", CostOpNames.All), out var parsed);
            op = parsed;
        }
        return work ? new WorkObs(span, process, unit, op) : new CostObs(span, process, op);
    }
}
