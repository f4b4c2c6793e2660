namespace MthpSim.Scenario.Syntax;

// process NAME and the operations written 'P VERB ...'. Names are registered as soon as they
// are read, even if the rest of the line has an error, so one typo does not cascade into
// "unknown region" errors on every later line.
public sealed partial class ScenarioParser
{
    private ProcessStmt ParseProcess(TokenCursor c, SourceSpan span, string text)
    {
        var name = NewProcessName(c.Next("a process name"));
        _bindings.AddProcess(name, c.Line.Number);
        c.End("process");
        return new ProcessStmt(span, text, name);
    }

    private Statement ParseProcessOperation(TokenCursor c, string process, SourceSpan span, string text)
    {
        // The list of verbs is spelled out only when the line ends here (not for every line the fuzzer parses).
        var verb = c.AtEnd ? c.Next($"an operation after {Echo.Quote(process)} ({FormatChoices(Keywords.Verbs)})") : c.Next("an operation");
        switch (verb.Text)
        {
            case "mmap": return ParseMmap(c, process, span, text);
            case "munmap": return ParseMunmap(c, process, span, text);
            case "mprotect":
            {
                var (region, off, len) = RegionRange(c, process);
                var prot = Keywords.Prots[OneOf(c, "a protection", Keywords.Prots.Keys)];
                c.End("mprotect");
                return new MprotectStmt(span, text, process, region, off, len, prot);
            }
            case "madvise":
            {
                var (region, off, len) = RegionRange(c, process);
                var advice = Keywords.Advices[OneOf(c, "an advice", Keywords.Advices.Keys)];
                c.End("madvise");
                return new MadviseStmt(span, text, process, region, off, len, advice);
            }
            case "read":
            case "write":
            case "rmw":
                return ParseAccess(c, process, verb.Text != "read", span, text) with { IsRmw = verb.Text == "rmw" };
            case "mremap":
            {
                var region = RequireRegion(process, c.Next("a region name"));
                var addr = AddressOrAny(c.Next(AddressExpected));
                var lenToken = c.Next(SizeExpected);
                var len = CallLength(lenToken);
                CheckEnd(lenToken, addr ?? 0, len, "address");
                c.End("mremap");
                return new MremapStmt(span, text, process, region, addr, len);
            }
            case "fork":
            {
                var child = NewProcessName(c.Next("a name for the child process"));
                _bindings.Fork(process, child, c.Line.Number);
                c.End("fork");
                return new ForkStmt(span, text, process, child);
            }
            case "exit":
                _bindings.Process(process)!.ExitedLine = c.Line.Number;
                c.End("exit");
                return new ExitStmt(span, text, process);
            case "prctl":
            {
                var option = OneOf(c, "a prctl option", ["thp_disable"]);
                var v = c.Next("0 or 1");
                var r = NumberSyntax.ParseInteger(v.Text);
                if (!r.Ok || r.HasSizeSuffix || r.Value is not (0 or 1))
                    throw Error(v, $"expected 0 or 1, got {Echo.Quote(v.Text)}");
                c.End("prctl");
                return new PrctlStmt(span, text, process, option, r.Value);
            }
            case "cgroup":
                return ParseCgroupAttach(c, process, span, text);
            case "pin":
            case "unpin":
            {
                var (region, off, len) = RegionRange(c, process, zeroLength: false);
                c.End(verb.Text);
                return new PinStmt(span, text, process, region, off, len, verb.Text == "pin");
            }
            case "uffd":
                return ParseUffd(c, process, span, text);
            default:
                var hint = Suggestions.DidYouMean(verb.Text, Keywords.Verbs);
                throw Error(verb, hint.Length > 0
                    ? $"unknown statement {Echo.Quote(verb.Text)}{hint}"
                    : $"unknown statement {Echo.Quote(verb.Text)}; after a process name expected {FormatChoices(Keywords.Verbs)}");
        }
    }

    /// <summary>P uffd OP REGION OFF LEN [MODE [handler=H] | 0|1]</summary>
    private UffdStmt ParseUffd(TokenCursor c, string process, SourceSpan span, string text)
    {
        var op = Keywords.UffdOps[OneOf(c, "a userfaultfd operation", Keywords.UffdOps.Keys)];
        var (region, off, len) = RegionRange(c, process);
        var stmt = new UffdStmt(span, text, process, op, region, off, len);
        switch (op)
        {
            case UffdOp.Register:
            {
                var modeToken = c.Next("a mode (missing, wp, minor, or several joined by +, e.g. missing+wp)");
                var modes = UffdModes.None;
                foreach (var word in modeToken.Text.Split('+'))
                {
                    if (!Keywords.UffdModeNames.TryGetValue(word, out var m))
                        throw Error(modeToken, $"expected a mode (missing, wp, minor, or several joined by +), got {Echo.Quote(modeToken.Text)}"
                            + Suggestions.DidYouMean(word, Keywords.UffdModeNames.Keys));
                    if ((modes & m) != 0) throw Error(modeToken, $"mode {Echo.Quote(word)} is given twice in {Echo.Quote(modeToken.Text)}");
                    modes |= m;
                }
                var handler = UffdHandler.Copy;
                if (!c.AtEnd)
                {
                    var h = c.Next("handler=copy|zeropage|none");
                    const string prefix = "handler=";
                    if (!h.Text.StartsWith(prefix, StringComparison.Ordinal))
                        throw Error(h, $"expected handler=copy|zeropage|none, got {Echo.Quote(h.Text)}");
                    string value = h.Text[prefix.Length..];
                    if (!Keywords.UffdHandlers.TryGetValue(value, out handler))
                        throw Error(h, $"handler must be {FormatChoices(Keywords.UffdHandlers.Keys)}, got {Echo.Quote(value)}"
                            + Suggestions.DidYouMean(value, Keywords.UffdHandlers.Keys));
                }
                c.End("uffd register");
                return stmt with { Modes = modes, Handler = handler };
            }
            case UffdOp.WriteProtect:
            {
                var v = c.Next("0 (clear write protection) or 1 (set it)");
                var r = NumberSyntax.ParseInteger(v.Text);
                if (!r.Ok || r.HasSizeSuffix || r.Value is not (0 or 1))
                    throw Error(v, $"expected 0 (clear write protection) or 1 (set it), got {Echo.Quote(v.Text)}");
                c.End("uffd wp");
                return stmt with { Protect = r.Value == 1 };
            }
            default:
                c.End($"uffd {op.ToString().ToLowerInvariant()}");
                return stmt;
        }
    }

    /// <summary>
    /// REGION OFF LEN, shared by most operations. LEN may be 0 where the statement is one system call
    /// (<paramref name="zeroLength"/>); a pin is not (the live side pins through io_uring, which refuses
    /// an empty buffer where pin_user_pages() would pin nothing), so it needs a length.
    /// </summary>
    private (string Region, long Offset, long Length) RegionRange(TokenCursor c, string process, bool zeroLength = true)
    {
        var region = RequireRegion(process, c.Next("a region name"));
        var off = Offset(c.Next(OffsetExpected));
        var lenToken = c.Next(SizeExpected);
        var len = zeroLength ? CallLength(lenToken) : Length(lenToken);
        CheckEnd(lenToken, off, len, "offset");
        return (region, off, len);
    }

    private MmapStmt ParseMmap(TokenCursor c, string process, SourceSpan span, string text)
    {
        // Whether the name is still bound to a mapping is known only when the mmap runs (an earlier mmap
        // of it may have failed, or a munmap may have covered it): the runtime refuses that case.
        var region = c.Next("a region name");
        if (!IsRegionName(region.Text))
            throw Error(region, $"expected a region name (letters, digits, _, - and ., not starting with a digit or -, such as buf or heap-1), got {Echo.Quote(region.Text)}");
        _bindings.Process(process)!.Regions[region.Text] = c.Line.Number;
        var addr = AddressOrAny(c.Next(AddressExpected));
        var lenToken = c.Next(SizeExpected);
        var len = CallLength(lenToken);
        CheckEnd(lenToken, addr ?? 0, len, "address");

        // Optional words in any order, each kind at most once; defaults are rw private anon.
        Token? protWord = null, shareWord = null, backingWord = null;
        var prot = Prot.ReadWrite;
        bool shared = false;
        string? file = null;
        long fileOffset = 0;
        while (c.TryNext(out var t))
        {
            if (Keywords.Prots.TryGetValue(t.Text, out var p))
            {
                Once(ref protWord, t);
                prot = p;
            }
            else if (t.Text is "private" or "shared")
            {
                Once(ref shareWord, t);
                shared = t.Text == "shared";
            }
            else if (t.Text == "anon")
            {
                Once(ref backingWord, t);
            }
            else if (t.Text.StartsWith("memfd:", StringComparison.Ordinal) || t.Text.StartsWith("file:", StringComparison.Ordinal))
            {
                Once(ref backingWord, t);
                (file, fileOffset) = FileBacking(t);
                CheckEnd(t, fileOffset, len, "file offset");
            }
            else
            {
                string[] words = ["rw", "r", "none", "private", "shared", "anon", "memfd:", "file:"];
                throw Error(t, $"expected rw, r, none, private, shared, anon, memfd:FILE[+OFFSET] or file:FILE[+OFFSET], got {Echo.Quote(t.Text)}"
                    + Suggestions.DidYouMean(t.Text, words));
            }
        }
        return new MmapStmt(span, text, process, region.Text, addr, len, prot, shared, file, fileOffset);
    }

    /// <summary>Rejects a second word of the same kind, e.g. 'private shared' or 'r rw'.</summary>
    private static void Once(ref Token? seen, Token t)
    {
        if (seen is { } first)
            throw new SyntaxError(t.Column, $"{Echo.Quote(t.Text)} conflicts with {Echo.Quote(first.Text)} given earlier on this line");
        seen = t;
    }

    /// <summary>memfd:FILE[+OFFSET] or file:FILE[+OFFSET]: either prefix maps any file the scenario created
    /// (a memfd or a file on a tmpfs mount), as the spec says.</summary>
    private (string File, long Offset) FileBacking(Token t)
    {
        var rest = t.Text[(t.Text.IndexOf(':') + 1)..];
        int plus = rest.IndexOf('+');
        var name = plus >= 0 ? rest[..plus] : rest;
        if (name.Length == 0)
            throw Error(t, $"expected {t.Text[..t.Text.IndexOf(':')]}:FILE[+OFFSET] with a file name, got {Echo.Quote(t.Text)}");
        RequireFile(new Token(name, t.Column));
        long offset = plus >= 0 ? Offset(t, rest[(plus + 1)..], "file offset") : 0;
        return (name, offset);
    }

    private MunmapStmt ParseMunmap(TokenCursor c, string process, SourceSpan span, string text)
    {
        var region = RequireRegion(process, c.Next("a region name"));
        if (c.AtEnd) return new MunmapStmt(span, text, process, region, null, null);
        var off = Offset(c.Next(OffsetExpected));
        var lenToken = c.Next($"{SizeExpected} (munmap takes both OFF and LEN, or neither)");
        var len = CallLength(lenToken);
        CheckEnd(lenToken, off, len, "offset");
        c.End("munmap");
        return new MunmapStmt(span, text, process, region, off, len);
    }

    private AccessStmt ParseAccess(TokenCursor c, string process, bool isWrite, SourceSpan span, string text)
    {
        var (region, off, len) = RegionRange(c, process);
        long? step = null, each = null;
        while (c.TryNext(out var t))
        {
            int eq = t.Text.IndexOf('=');
            var key = eq > 0 ? t.Text[..eq] : "";
            var value = eq > 0 ? t.Text[(eq + 1)..] : "";
            if (key == "step")
            {
                if (step is not null)
                    throw Error(t, "'step' is given twice");
                step = Length(t, value, key);
            }
            else if (key == "each")
            {
                if (each is not null)
                    throw Error(t, "'each' is given twice");
                each = Length(t, value, key);
            }
            else
            {
                throw Error(t, $"expected step=S or each=E, got {Echo.Quote(t.Text)}{Suggestions.DidYouMean(key.Length > 0 ? key : t.Text, ["step", "each"])}");
            }
        }
        // Without step every page is touched once, whatever the width of each access (each= changes nothing then).
        return new AccessStmt(span, text, process, region, isWrite, off, len, step, each);
    }
}
