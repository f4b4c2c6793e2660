using System.CommandLine;

namespace MthpSim.Cli.Commands;

/// <summary>The scenario-file argument every command takes.</summary>
public static class ScenarioFilesArgument
{
    public static Argument<FileInfo[]> Create() =>
        new("files") { Arity = ArgumentArity.OneOrMore, Description = "Scenario files (.mthp)" };
}
