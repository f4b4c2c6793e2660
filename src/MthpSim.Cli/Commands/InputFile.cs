using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary>
/// Reads a file named on the command line, or standard input for <c>-</c>. Every way that can fail
/// becomes one line for stderr (the commands then exit 2), never an exception with a stack trace.
/// </summary>
public static class InputFile
{
    /// <summary>The file argument that means standard input.</summary>
    public const string StdinArgument = "-";

    /// <summary>How messages name standard input.</summary>
    public const string StdinName = "<stdin>";

    /// <summary>The name diagnostics give the file: <c>&lt;stdin&gt;</c> for <c>-</c>.</summary>
    public static string Name(FileInfo f) => f.ToString() == StdinArgument ? StdinName : f.ToString();

    /// <summary>The file's name without its directories (for a progress line), escaped.</summary>
    public static string ShortName(FileInfo f) => Echo.Escape(f.ToString() == StdinArgument ? StdinName : f.Name);

    /// <summary>Standard input can be read once: '-' given twice would make the second an empty scenario.</summary>
    public static string? RefuseStdinTwice(string command, IEnumerable<FileInfo> files) =>
        files.Count(f => f.ToString() == StdinArgument) > 1 ? $"mthpsim {command}: '-' (standard input) is given more than once; it can be read only once" : null;

    /// <summary>A scenario's text, decoded as UTF-8 without replacing bad bytes; or null with
    /// <paramref name="error"/> set to the line to print (a read failure, or file:line:col for bytes that are not UTF-8).</summary>
    public static string? ReadScenario(FileInfo f, Func<Stream> stdin, out string error)
    {
        string name = Name(f);
        byte[] bytes;
        try
        {
            if (f.ToString() == StdinArgument)
            {
                using var buffer = new MemoryStream();
                stdin().CopyTo(buffer);
                bytes = buffer.ToArray();
            }
            else
            {
                // Checked first: opening a directory fails with the same exception as a permission problem.
                if (Directory.Exists(name)) { error = Refusal(name, "is a directory"); return null; }
                bytes = File.ReadAllBytes(name);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error = Refusal(name, Reason(e));
            return null;
        }
        var text = SourceText.Decode(name, bytes, out var invalid);
        error = invalid?.ToString() ?? "";
        return text;
    }

    /// <summary>The file's text, or null with <paramref name="error"/> set to the line to print.</summary>
    public static string? Read(FileInfo f, out string error)
    {
        string path = f.ToString();
        error = "";
        try
        {
            // Checked first: opening a directory fails with the same exception as a permission problem.
            if (Directory.Exists(path)) { error = Refusal(path, "is a directory"); return null; }
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error = Refusal(path, Reason(e));
            return null;
        }
    }

    /// <summary>Why reading failed, in a few words (the exception's own text names neither cause nor file clearly).</summary>
    public static string Reason(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        PathTooLongException => "path too long",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    // A path with a line break or control character in it is escaped, so the refusal stays one line.
    static string Refusal(string path, string reason) => $"mthpsim: cannot read {Echo.Escape(path)}: {reason}";
}
