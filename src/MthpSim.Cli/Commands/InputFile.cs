namespace MthpSim.Cli.Commands;

/// <summary>
/// Reads a file named on the command line. Every way that can fail becomes one line for stderr
/// (the commands then exit 2), never an exception with a stack trace.
/// </summary>
public static class InputFile
{
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

    static string Refusal(string path, string reason) => $"mthpsim: cannot read {path}: {reason}";
}
