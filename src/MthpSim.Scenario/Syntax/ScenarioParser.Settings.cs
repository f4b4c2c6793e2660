namespace MthpSim.Scenario.Syntax;

// machine, sysfs and policy: the simulated machine and its knobs.
public sealed partial class ScenarioParser
{
    private const string SysfsPathExpected = "a sysfs path (e.g. enabled, hugepages-64kB/enabled)";

    private MachineStmt ParseMachine(TokenCursor c, Token head, SourceSpan span, string text, bool first)
    {
        // Checked before the arguments: the machine is built before anything else runs.
        if (_machineLine is { } earlier)
            throw Error(head, $"'machine' may appear only once (already given at line {earlier})");
        _machineLine = c.Line.Number;
        if (!first)
            throw Error(head, "'machine' must come before any other statement");

        long? memory = null, page = null, swap = null;
        string? arch = null, swapDev = null, rmw = null;
        ulong? seed = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (c.TryNext(out var t))
        {
            int eq = t.Text.IndexOf('=');
            if (eq <= 0)
                throw Error(t, $"expected KEY=VALUE with KEY one of {FormatChoices(Keywords.MachineKeys)}, got {Echo.Quote(t.Text)}");
            var key = t.Text[..eq];
            var value = t.Text[(eq + 1)..];
            if (!Keywords.MachineKeys.Contains(key))
                throw Error(t, $"unknown machine setting {Echo.Quote(key)}{Suggestions.DidYouMean(key, Keywords.MachineKeys)}; "
                    + $"expected {FormatChoices(Keywords.MachineKeys)}");
            if (!seen.Add(key))
                throw Error(t, $"machine setting {Echo.Quote(key)} is given twice");
            switch (key)
            {
                case "memory":
                    memory = Length(t, value, key);
                    break;
                case "page":
                    page = Number(t, "a page size (4K, 16K or 64K)", value, key);
                    if (page is not (4096 or 16384 or 65536))
                        throw Error(t, $"page must be 4K, 16K or 64K, got {Echo.Quote(value)}");
                    break;
                case "arch":
                    if (!Keywords.Arches.Contains(value))
                        throw Error(t, $"arch must be x86_64 or arm64, got {Echo.Quote(value)}{Suggestions.DidYouMean(value, Keywords.Arches)}");
                    arch = value;
                    break;
                case "swap":
                    swap = NonNegativeSize(t, "swap", value, key);
                    break;
                case "swapdev":
                    if (!Keywords.SwapDevs.Contains(value))
                        throw Error(t, $"swapdev must be {FormatChoices(Keywords.SwapDevs)}, got {Echo.Quote(value)}{Suggestions.DidYouMean(value, Keywords.SwapDevs)}");
                    swapDev = value;
                    break;
                case "rmw":
                    if (!Keywords.RmwModes.Contains(value))
                        throw Error(t, $"rmw must be {FormatChoices(Keywords.RmwModes)}, got {Echo.Quote(value)}{Suggestions.DidYouMean(value, Keywords.RmwModes)}");
                    rmw = value;
                    break;
                case "seed":
                    var r = NumberSyntax.ParseUnsigned(value, out ulong s);
                    if (r.Status == NumberStatus.Overflow)
                        throw Error(t, $"{Echo.Quote(value)} is out of range for 'seed' (it must fit in an unsigned 64-bit integer)");
                    if (!r.Ok)
                        throw NumberError(t, r, "a non-negative integer (e.g. 1, 42)", value, key);
                    seed = s;
                    break;
            }
        }
        _machine = new MachineStmt(span, text, memory, page, arch, swap, seed) { SwapDev = swapDev, Rmw = rmw };
        return _machine;
    }

    private SysfsWriteStmt ParseSysfs(TokenCursor c, SourceSpan span, string text)
    {
        var path = SysfsPath(c);
        var eq = c.Next("'=' after the sysfs path");
        if (eq.Text != "=")
            throw Error(eq, $"expected '=' after the sysfs path, got {Echo.Quote(eq.Text)}");
        // The value is free text: the simulated kernel decides what it accepts (and sets rc).
        var words = new List<string> { c.Next("a value after '='").Text };
        while (c.TryNext(out var w))
            words.Add(w.Text);
        return new SysfsWriteStmt(span, text, path.Text, string.Join(' ', words));
    }

    /// <summary>A path relative to /sys/kernel/mm/transparent_hugepage/, as the spec writes them.</summary>
    private static Token SysfsPath(TokenCursor c)
    {
        var path = c.Next(SysfsPathExpected);
        if (path.Text == "=" || path.Text.StartsWith("==", StringComparison.Ordinal) || path.Text.StartsWith("!=", StringComparison.Ordinal))
            throw new SyntaxError(path.Column, $"expected {SysfsPathExpected}, got {Echo.Quote(path.Text)}");
        if (path.Text.Contains('='))
            throw new SyntaxError(path.Column, $"write 'PATH = VALUE' with spaces around '=', got {Echo.Quote(path.Text)}");
        if (path.Text.StartsWith('/'))
            throw new SyntaxError(path.Column,
                $"sysfs paths are relative to /sys/kernel/mm/transparent_hugepage/ (e.g. enabled), got {Echo.Quote(path.Text)}");
        return path;
    }

    private PolicyStmt ParsePolicy(TokenCursor c, SourceSpan span, string text)
    {
        var knob = c.Next("'collapse'");
        if (knob.Text != "collapse")
            throw Error(knob, $"unknown policy {Echo.Quote(knob.Text)}{Suggestions.DidYouMean(knob.Text, ["collapse"])}; the only policy is 'collapse'");
        var eq = c.Next("'=' after 'collapse'");
        if (eq.Text != "=")
            throw Error(eq, $"expected '=' after 'collapse', got {Echo.Quote(eq.Text)}");
        // Any name parses; the runner checks it against the registered designs (an extension point).
        var value = c.Next($"a collapse policy ({string.Join(", ", Keywords.CollapsePolicies)})").Text;
        c.End("policy");
        return new PolicyStmt(span, text, knob.Text, value);
    }
}
