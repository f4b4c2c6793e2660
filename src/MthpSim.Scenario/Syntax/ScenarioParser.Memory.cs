using MthpSim.Core.PageAlloc;

namespace MthpSim.Scenario.Syntax;

// Physical memory: age KIND SIZE [scattered|clustered], compact, sysctl NAME = VALUE.
public sealed partial class ScenarioParser
{
    private Statement ParseAge(TokenCursor c, SourceSpan span, string text)
    {
        if (c.Peek() is { Text: "snapshot" })
        {
            c.Next("snapshot");
            return ParseAgeSnapshot(c, span, text);
        }
        var kind = OneOf(c, "what ages the machine (unmovable, reclaimable, pinned, pagecache or snapshot)", ["unmovable", "reclaimable", "pinned", "pagecache"]) switch
        {
            "unmovable" => AgeKind.Unmovable,
            "reclaimable" => AgeKind.Reclaimable,
            "pinned" => AgeKind.Pinned,
            _ => AgeKind.Pagecache,
        };
        long size = Length(c.Next(SizeExpected));
        bool scattered = c.AtEnd || OneOf(c, "a placement (scattered or clustered)", ["scattered", "clustered"]) == "scattered";
        c.End("age");
        return new AgeStmt(span, text, kind, size, scattered);
    }

    /// <summary>age snapshot FILE: the capture is read here, so that a bad file is refused before anything runs.</summary>
    private AgeSnapshotStmt ParseAgeSnapshot(TokenCursor c, SourceSpan span, string text)
    {
        var pathWord = c.Next("a /proc/pagetypeinfo capture");
        c.End("age snapshot");
        // A relative path is the scenario file's neighbour (from standard input: the working directory's).
        string dir = _file == "<stdin>" ? "" : System.IO.Path.GetDirectoryName(_file) ?? "";
        string path = System.IO.Path.IsPathRooted(pathWord.Text) ? pathWord.Text : System.IO.Path.Combine(dir, pathWord.Text);
        string contents;
        try { contents = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(pathWord, $"cannot read {Echo.Quote(pathWord.Text)}: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}");
        }
        var snap = PagetypeSnapshot.Parse(contents, out var error);
        if (error != null) throw Error(pathWord, $"{Echo.Quote(pathWord.Text)} is not a /proc/pagetypeinfo capture the model can use: {error}");
        return new AgeSnapshotStmt(span, text, path, snap);
    }

    private SysctlWriteStmt ParseSysctl(TokenCursor c, SourceSpan span, string text)
    {
        var name = c.Next("a sysctl name (e.g. vm.compaction_proactiveness)");
        if (!MthpSim.Core.Kernel.Sysctls.Contains(name.Text))
            throw Error(name, $"the model has no sysctl {Echo.Quote(name.Text)}; it has {string.Join(", ", MthpSim.Core.Kernel.Sysctls)}"
                + Suggestions.DidYouMean(name.Text, MthpSim.Core.Kernel.Sysctls));
        var eq = c.Next("'=' after the sysctl name");
        if (eq.Text != "=")
            throw Error(eq, $"expected '=' after the sysctl name, got {Echo.Quote(eq.Text)}");
        var value = c.Next("a value after '='").Text;
        c.End("sysctl");
        return new SysctlWriteStmt(span, text, name.Text, value);
    }
}
