using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;

namespace MthpSim.Scenario.Syntax;

// replay TRACE [as PREFIX]: the trace is read here, so that the names it binds (PREFIX1, PREFIX2, ...
// and their regions) are checked like any other before anything runs.
public sealed partial class ScenarioParser
{
    private ReplayStmt ParseReplay(TokenCursor c, SourceSpan span, string text)
    {
        var pathWord = c.Next("a trace file");
        string prefix = "t";
        if (c.TryNext(out var asWord))
        {
            if (asWord.Text != "as") throw Error(asWord, $"expected 'as PREFIX' or the end of the line, got {Echo.Quote(asWord.Text)}");
            var p = c.Next("a process name prefix");
            if (!IsIdentifier(p.Text)) throw Error(p, $"expected a process name prefix (an identifier such as t), got {Echo.Quote(p.Text)}");
            prefix = p.Text;
        }
        c.End("replay");
        // A relative path is the scenario file's neighbour (from standard input: the working directory's).
        string dir = _file == "<stdin>" ? "" : System.IO.Path.GetDirectoryName(_file) ?? "";
        string path = System.IO.Path.IsPathRooted(pathWord.Text) ? pathWord.Text : System.IO.Path.Combine(dir, pathWord.Text);
        List<ReplayNames.Process> processes;
        try
        {
            using var reader = TraceReader.Open(path);
            // the machine's, as machine sets them (x86_64 and 4K by default)
            string arch = _machine?.Arch ?? "x86_64";
            long page = _machine?.PageSize ?? 4096;
            if (reader.Header.Arch != arch || reader.Header.PageSize != page)
                throw Error(pathWord, $"trace {Echo.Quote(pathWord.Text)} was recorded on {reader.Header.Arch} with {reader.Header.PageSize / 1024}K pages; the machine is {arch} with {page / 1024}K pages");
            processes = ReplayNames.Read(reader);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Error(pathWord, $"cannot read trace {Echo.Quote(pathWord.Text)}: no such file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(pathWord, $"cannot read trace {Echo.Quote(pathWord.Text)}: {e.Message}");
        }
        catch (TraceFormatException e)
        {
            throw Error(pathWord, $"trace {Echo.Quote(pathWord.Text)}: {e.Problem} (at byte {e.Offset})");
        }
        foreach (var p in processes)
        {
            string name = prefix + p.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (Keywords.Reserved.Contains(name)) throw Error(pathWord, $"the trace's process {name} would be a reserved word; choose another prefix with 'as'");
            if (_bindings.Process(name) is { } existing)
                throw Error(pathWord, $"the trace's process {Echo.Quote(name)} already exists (created at line {existing.CreatedLine}); choose another prefix with 'as'");
            _bindings.AddProcess(name, c.Line.Number);
            var info = _bindings.Process(name)!;
            foreach (var r in p.Regions) info.Regions[r] = c.Line.Number;
            if (p.Exited) info.ExitedLine = c.Line.Number;
        }
        return new ReplayStmt(span, text, path, prefix, processes);
    }
}
