namespace MthpSim.Tests.Cli;

/// <summary>Runs the <c>mthpsim</c> command line in-process and writes scenario files for it.</summary>
public static class CliRunner
{
    /// <summary>The exit status and what the command printed on standard output and standard error.</summary>
    public static (int code, string stdout, string stderr) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = MthpSim.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>The same, with <paramref name="stdin"/> as what standard input holds (read by a file argument '-').</summary>
    public static (int code, string stdout, string stderr) RunWithStdin(byte[] stdin, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = MthpSim.Cli.Program.Run(args, o, e, () => new MemoryStream(stdin, writable: false));
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>A scenario file with this text, in a fresh temporary path.</summary>
    public static string Temp(string text)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.mthp");
        File.WriteAllText(path, text);
        return path;
    }
}
