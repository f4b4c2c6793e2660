namespace MthpSim.Scenario.Syntax;

/// <summary>A size on a command line, written as the language writes sizes (16G, 512M, 4096).</summary>
public static class SizeText
{
    public static bool TryParse(string text, out long bytes)
    {
        var r = NumberSyntax.ParseInteger(text);
        bytes = r.Value;
        return r.Ok && r.Value > 0;
    }
}
