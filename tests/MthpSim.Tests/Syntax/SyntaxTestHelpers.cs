using MthpSim.Scenario.Syntax;
using Xunit;

namespace MthpSim.Tests.Syntax;

/// <summary>Shorthands for parsing snippets in tests.</summary>
internal static class SyntaxTestHelpers
{
    public const string FileName = "t.mthp";

    /// <summary>Parses text that must be valid and returns its statements.</summary>
    public static IReadOnlyList<Statement> Ok(string text)
    {
        var r = ScenarioParser.Parse(FileName, text);
        Assert.True(r.Success, string.Join("\n", r.Errors));
        return r.Statements;
    }

    /// <summary>Parses valid text and returns its last statement, cast to T.</summary>
    public static T Last<T>(string text) where T : Statement => Assert.IsType<T>(Ok(text)[^1]);

    /// <summary>Parses text with exactly one error and returns it.</summary>
    public static Diagnostic OneError(string text)
    {
        var r = ScenarioParser.Parse(FileName, text);
        return Assert.Single(r.Errors);
    }

    public static SourceSpan At(int line, int column) => new(FileName, line, column);
}
