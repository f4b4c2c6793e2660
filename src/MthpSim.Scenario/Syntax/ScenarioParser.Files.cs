namespace MthpSim.Scenario.Syntax;

// Files (shmem): memfd, tmpfs, file, ftruncate, fallocate, lseek, pwrite, pread.
public sealed partial class ScenarioParser
{
    private const string FileExpected = "a file name";

    private MemfdStmt ParseMemfd(TokenCursor c, SourceSpan span, string text)
    {
        var name = NewFileName(c.Next(FileExpected));
        // A zero size is a valid ftruncate; only a range length must be positive.
        var size = NonNegativeSize(c.Next(SizeExpected), "size");
        c.End("memfd");
        _bindings.AddFile(name, c.Line.Number);
        return new MemfdStmt(span, text, name, size);
    }

    /// <summary>A new file name: usable inside memfd:FILE+OFFSET, so no ':' or '+'; not taken by another file.</summary>
    private string NewFileName(Token name)
    {
        if (!IsFileName(name.Text))
            throw Error(name, $"expected a file name (letters, digits, '_', '-', '.'), got {Echo.Quote(name.Text)}");
        if (_bindings.FileLine(name.Text) is { } line)
            throw Error(name, $"file {Echo.Quote(name.Text)} already exists (created at line {line})");
        return name.Text;
    }

    private static bool IsFileName(string s) =>
        s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.');

    private TmpfsStmt ParseTmpfs(TokenCursor c, SourceSpan span, string text)
    {
        var mount = c.Next("a mount name");
        if (!IsIdentifier(mount.Text))
            throw Error(mount, $"expected a mount name (an identifier such as m or huge_mount), got {Echo.Quote(mount.Text)}");
        if (_bindings.MountLine(mount.Text) is { } line)
            throw Error(mount, $"tmpfs mount {Echo.Quote(mount.Text)} already exists (created at line {line})");
        Token? hugeWord = null, sizeWord = null;
        string huge = "never";
        long? size = null;
        while (c.TryNext(out var t))
        {
            int eq = t.Text.IndexOf('=');
            string key = eq > 0 ? t.Text[..eq] : t.Text;
            string value = eq > 0 ? t.Text[(eq + 1)..] : "";
            if (key == "huge" && value.Length > 0)
            {
                Once(ref hugeWord, t);
                // Any word: a value the kernel refuses makes the mount fail at run time with its errno, as mount(2) does.
                huge = value;
            }
            else if (key == "size" && value.Length > 0)
            {
                Once(ref sizeWord, t);
                var r = NumberSyntax.ParseInteger(value);
                if (!r.Ok || r.Value <= 0)
                    throw Error(t, $"expected size=SIZE with a positive size (e.g. size=64M), got {Echo.Quote(t.Text)}");
                size = r.Value;
            }
            else
                throw Error(t, $"expected a tmpfs option (huge=never|always|within_size|advise, size=SIZE), got {Echo.Quote(t.Text)}"
                    + Suggestions.DidYouMean(key, ["huge", "size"]));
        }
        _bindings.AddMount(mount.Text, c.Line.Number);
        return new TmpfsStmt(span, text, mount.Text, huge, size);
    }

    private FileStmt ParseFile(TokenCursor c, SourceSpan span, string text)
    {
        var name = NewFileName(c.Next(FileExpected));
        OneOf(c, "'on'", ["on"]);
        var mount = c.Next("a tmpfs mount name");
        if (_bindings.MountLine(mount.Text) is null)
            throw Error(mount, $"unknown tmpfs mount {Echo.Quote(mount.Text)} (create it first with 'tmpfs {Echo.Short(mount.Text)}')"
                + Suggestions.DidYouMean(mount.Text, _bindings.Mounts));
        long size = c.AtEnd ? 0 : NonNegativeSize(c.Next(SizeExpected), "size");
        c.End("file");
        _bindings.AddFile(name, c.Line.Number);
        return new FileStmt(span, text, name, mount.Text, size);
    }

    private FtruncateStmt ParseFtruncate(TokenCursor c, SourceSpan span, string text)
    {
        var file = RequireFile(c.Next(FileExpected));
        var size = NonNegativeSize(c.Next(SizeExpected), "size");
        c.End("ftruncate");
        return new FtruncateStmt(span, text, file, size);
    }

    private FallocateStmt ParseFallocate(TokenCursor c, SourceSpan span, string text)
    {
        var file = RequireFile(c.Next(FileExpected));
        var mode = OneOf(c, "a fallocate mode", ["punch", "alloc"]);
        var (off, len) = FileRange(c);
        c.End("fallocate");
        return new FallocateStmt(span, text, file, mode == "punch", off, len);
    }

    private LseekStmt ParseLseek(TokenCursor c, SourceSpan span, string text)
    {
        var file = RequireFile(c.Next(FileExpected));
        var whence = OneOf(c, "a seek mode", ["data", "hole"]);
        var off = Offset(c.Next(OffsetExpected));
        c.End("lseek");
        return new LseekStmt(span, text, file, whence == "data", off);
    }

    private FileIoStmt ParseFileIo(TokenCursor c, SourceSpan span, string text, bool write)
    {
        var file = RequireFile(c.Next(FileExpected));
        var (off, len) = FileRange(c);
        c.End(write ? "pwrite" : "pread");
        return new FileIoStmt(span, text, file, write, off, len);
    }

    private (long Offset, long Length) FileRange(TokenCursor c)
    {
        var off = Offset(c.Next(OffsetExpected));
        var lenToken = c.Next(SizeExpected);
        var len = CallLength(lenToken);
        CheckEnd(lenToken, off, len, "offset");
        return (off, len);
    }

    /// <summary><c>file FILE folio OFF order|kind</c>, <c>file FILE size</c>, <c>file FILE blocks</c>.</summary>
    private FileObs ParseFileObservable(TokenCursor c, SourceSpan span)
    {
        var file = RequireFile(c.Next(FileExpected));
        var what = OneOf(c, "a file observable", ["folio", "size", "blocks"]);
        if (what == "size") return new FileObs(span, file, FileAttr.Size, 0);
        if (what == "blocks") return new FileObs(span, file, FileAttr.Blocks, 0);
        var off = Offset(c.Next(OffsetExpected));
        var attr = OneOf(c, "a folio attribute", ["order", "kind"]);
        return new FileObs(span, file, attr == "order" ? FileAttr.FolioOrder : FileAttr.FolioKind, off);
    }
}
