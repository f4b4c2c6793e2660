using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Scenario.Runtime;
using MthpSim.Tests.Cli;
using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Core;

/// <summary>Collapse designs from assemblies of one's own (<c>--policy-assembly</c>), the sample first.</summary>
public class PolicyAssembliesTests
{
    /// <summary>The sample of samples/ExternalPolicy, as the build of this test project left it (same configuration).</summary>
    internal static string SampleAssembly
    {
        get
        {
            string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;   // bin/CONFIGURATION/net10.0/
            return Path.Combine(RepoPaths.Root, "samples", "ExternalPolicy", "bin", configuration, "net10.0", "MthpSim.Samples.ExternalPolicy.dll");
        }
    }

    static string SampleScenario => Path.Combine(RepoPaths.Root, "samples", "ExternalPolicy", "full-ranges-only.mthp");

    /// <summary>Compiles <paramref name="source"/> against MthpSim.Core into an assembly of its own name, in a fresh temporary file.</summary>
    static string Compile(string source)
    {
        string name = $"PolicyTest{Guid.NewGuid():N}";
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = new[] { typeof(object).Assembly.Location, Path.Combine(runtime, "System.Runtime.dll"), typeof(ICollapsePolicy).Assembly.Location }
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        string path = Path.Combine(Path.GetTempPath(), name + ".dll");
        var emitted = compilation.Emit(path);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return path;
    }

    const string Design = """
        using MthpSim.Core;
        using MthpSim.Core.Khugepaged;
        using MthpSim.Core.Khugepaged.Policies;
        public sealed class Design : ICollapsePolicy
        {
            CTOR
            public string Name => NAME;
            public bool HasCollapseStats => false;
            public bool VmEventsAtEveryOrder => false;
            public bool KhugepagedEnabled(Kernel k) => false;
            public ulong KhugepagedOrders(Kernel k, MthpSim.Core.Vma.Vma vma) => 0;
            public ScanResult CollapseWindow(PmdWindow w) => ScanResult.Fail;
        }
        """;

    static string DesignNamed(string name, string ctor = "") => Compile(Design.Replace("NAME", name).Replace("CTOR", ctor));

    static string Refusal(string path) => Assert.Throws<PolicyAssemblyException>(() => PolicyAssemblies.Load(path)).Message;

    [Fact]
    public void The_sample_design_loads_by_name_and_its_scenario_holds()
    {
        Assert.True(File.Exists(SampleAssembly), $"{SampleAssembly} was not built with the tests");
        Assert.Equal(["full-ranges-only"], PolicyAssemblies.Load(SampleAssembly));
        Assert.Equal(["full-ranges-only"], PolicyAssemblies.Load(SampleAssembly));   // again: harmless
        Assert.Equal("full-ranges-only", CollapsePolicies.Create("full-ranges-only")!.Name);
        var r = ScenarioRunner.RunText(SampleScenario, File.ReadAllText(SampleScenario), new RunOptions { CheckInvariants = true });
        Assert.True(r.Passed, string.Join("\n", r.Failures.Select(f => f.Describe())) + r.Aborted + string.Join("\n", r.Invalid));
    }

    [Fact]
    public void The_sample_is_written_against_the_public_surface_only()
    {
        var type = Assembly.LoadFrom(SampleAssembly).GetType("MthpSim.Samples.ExternalPolicy.FullRangesOnlyPolicy")!;
        Assert.All(CollapsePolicyPublicSurfaceTests.CoreMembersUsed(type), m => Assert.True(m is Type t ? t.IsVisible : m is MethodBase { IsPublic: true } or FieldInfo { IsPublic: true }, m.Name));
    }

    [Fact]
    public void What_cannot_be_a_design_is_refused_with_the_reason()
    {
        Assert.EndsWith("nowhere.dll: no such file", Refusal("/nonexistent/nowhere.dll"));
        string text = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}.dll");
        File.WriteAllText(text, "not an assembly");
        Assert.EndsWith(": not a .NET assembly", Refusal(text));
        Assert.Contains("no public class implementing ICollapsePolicy", Refusal(typeof(ScenarioRunner).Assembly.Location));
        Assert.Contains("which is already a collapse design", Refusal(DesignNamed("\"mthp\"")));
        Assert.Contains("a design's name is letters, digits", Refusal(DesignNamed("\"two words\"")));
        Assert.Contains("a design's name is letters, digits", Refusal(DesignNamed("\"a,b\"")));
        Assert.Contains("has no public parameterless constructor", Refusal(DesignNamed("\"needs-an-argument\"", "public Design(int x) { }")));
        Assert.Contains("constructor threw: not today", Refusal(DesignNamed("\"throws\"", "public Design() { throw new System.Exception(\"not today\"); }")));
        Assert.Null(CollapsePolicies.Create("throws"));   // nothing of a refused assembly is registered
    }

    [Fact]
    public void The_command_line_loads_designs_for_run_check_compare_and_replay()
    {
        var (code, stdout, stderr) = CliRunner.Run("run", "--policy-assembly", SampleAssembly, SampleScenario);
        Assert.True(code == 0, stdout + stderr);
        (code, stdout, _) = CliRunner.Run("check", "--policy-assembly", SampleAssembly, SampleScenario);
        Assert.Equal(0, code);
        (code, stdout, stderr) = CliRunner.Run("compare", "--policy-assembly", SampleAssembly, Path.Combine(RepoPaths.Root, "scenarios", "policies", "creep-384.mthp"));
        Assert.True(code == 0, stderr);
        Assert.Contains("full-ranges-only", stdout);   // loaded designs join the default set
        Assert.Contains("mthp-per-order-rfc", stdout);
        (code, _, stderr) = CliRunner.Run("replay", "--policy-assembly", SampleAssembly, "--policy", "full-ranges-only", Path.Combine(RepoPaths.Root, "traces", "sqlite3", "trace.mtrace"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("run", "--policy-assembly", "/nonexistent/x.dll", SampleScenario);
        Assert.Equal(2, code);
        Assert.Equal("mthpsim run: --policy-assembly /nonexistent/x.dll: no such file", stderr.Trim());
    }
}
