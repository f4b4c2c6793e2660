namespace MthpSim.Scenario.Syntax;

// memfd files (shmem): memfd, ftruncate, fallocate, lseek.
public sealed partial class ScenarioParser
{
    private MemfdStmt ParseMemfd(TokenCursor c, SourceSpan span, string text)
    {
        var name = c.Next("a file name");
        // The name is later written inside memfd:FILE+OFFSET, so it may not contain ':' or '+'.
        if (!IsFileName(name.Text))
            throw Error(name, $"expected a file name (letters, digits, '_', '-', '.'), got '{name.Text}'");
        if (_bindings.MemfdLine(name.Text) is { } line)
            throw Error(name, $"memfd file '{name.Text}' already exists (created at line {line})");
        _bindings.AddMemfd(name.Text, c.Line.Number);
        // A zero size is a valid ftruncate; only a range length must be positive.
        var size = NonNegativeSize(c.Next(SizeExpected), "size");
        c.End("memfd");
        return new MemfdStmt(span, text, name.Text, size);
    }

    private static bool IsFileName(string s) =>
        s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.');

    private FtruncateStmt ParseFtruncate(TokenCursor c, SourceSpan span, string text)
    {
        var file = RequireMemfd(c.Next("a memfd file name"));
        var size = NonNegativeSize(c.Next(SizeExpected), "size");
        c.End("ftruncate");
        return new FtruncateStmt(span, text, file, size);
    }

    private FallocateStmt ParseFallocate(TokenCursor c, SourceSpan span, string text)
    {
        var file = RequireMemfd(c.Next("a memfd file name"));
        var mode = OneOf(c, "a fallocate mode", ["punch", "alloc"]);
        var off = Offset(c.Next(OffsetExpected));
        var lenToken = c.Next(SizeExpected);
        var len = Length(lenToken);
        CheckEnd(lenToken, off, len, "offset");
        c.End("fallocate");
        return new FallocateStmt(span, text, file, mode == "punch", off, len);
    }

    private LseekStmt ParseLseek(TokenCursor c, SourceSpan span, string text)
    {
        var file = RequireMemfd(c.Next("a memfd file name"));
        var whence = OneOf(c, "a seek mode", ["data", "hole"]);
        var off = Offset(c.Next(OffsetExpected));
        c.End("lseek");
        return new LseekStmt(span, text, file, whence == "data", off);
    }
}
