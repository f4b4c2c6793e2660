using MthpSim.Tests.Scenarios;

namespace MthpSim.Tests.Docs;

/// <summary>
/// The kernel map in docs/architecture.md is the one the source's "models foo()" comments give.
/// When it is stale, regenerate it with MTHPSIM_UPDATE_DOCS=1 (see the test's message).
/// </summary>
public class KernelMapTests
{
    const string DocPath = "docs/architecture.md";

    [Fact]
    public void Architecture_doc_kernel_map_is_current()
    {
        string path = Path.Combine(RepoPaths.Root, DocPath);
        string doc = File.ReadAllText(path);
        string current = KernelMap.WithTable(doc, KernelMap.Table(KernelMap.Collect(RepoPaths.Root, Path.Combine(RepoPaths.Root, "src"))));
        if (current == doc) return;
        if (Environment.GetEnvironmentVariable("MTHPSIM_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, current);
            return;
        }
        var had = doc.Split('\n').ToHashSet(StringComparer.Ordinal);
        var has = current.Split('\n').ToHashSet(StringComparer.Ordinal);
        var changes = current.Split('\n').Where(l => !had.Contains(l)).Select(l => "+ " + l)
            .Concat(doc.Split('\n').Where(l => !has.Contains(l)).Select(l => "- " + l)).Take(10);
        Assert.Fail($"{DocPath}: the kernel map is stale (a \"models foo()\" comment under src/ was added, changed or moved). " +
                    "Regenerate it: MTHPSIM_UPDATE_DOCS=1 dotnet test tests/MthpSim.Tests --filter FullyQualifiedName~KernelMapTests\n" +
                    string.Join('\n', changes));
    }

    [Fact]
    public void A_doc_comment_names_its_member_and_every_function_before_the_colon()
    {
        const string source = """
            namespace N;
            partial class Kernel
            {
                /// <summary>models foo() → __bar(FLAG): then baz() is only mentioned.</summary>
                public void Foo() { }

                /// Bar: models qux()/quux()
                /// and corge() for one case.
                int Bar => 1;
            }
            """;
        var entries = KernelMap.FromSource(source, "src/X.cs").ToList();
        Assert.Equal(
            [new("foo", "Kernel.Foo", "src/X.cs"), new("__bar", "Kernel.Foo", "src/X.cs"),
             new("qux", "Kernel.Bar", "src/X.cs"), new("quux", "Kernel.Bar", "src/X.cs"), new("corge", "Kernel.Bar", "src/X.cs")],
            entries);
    }

    [Fact]
    public void A_comment_inside_a_body_belongs_to_the_member_holding_it()
    {
        const string source = """
            namespace N;
            class Outer
            {
                sealed class Tree
                {
                    void Walk()
                    {
                        // models walk_one(): the first
                        int x = 0;   // models walk_two()
                        void Local()
                        {
                            // models walk_local()
                        }
                    }
                }
                // model of nothing; it models nothing callable: x()
            }
            """;
        var entries = KernelMap.FromSource(source, "f.cs").Select(e => (e.Function, e.Member)).ToList();
        Assert.Equal([("walk_one", "Outer.Tree.Walk"), ("walk_two", "Outer.Tree.Walk"), ("walk_local", "Outer.Tree.Walk.Local")], entries);
    }

    [Fact]
    public void The_map_is_sorted_by_function_then_file()
    {
        var entries = KernelMap.Collect(RepoPaths.Root, Path.Combine(RepoPaths.Root, "src"));
        Assert.Contains(new KernelMapEntry("do_anonymous_page", "Kernel.DoAnonymousPage", "src/MthpSim.Core/Fault/Kernel.AnonFault.cs"), entries);
        var keys = entries.Select(e => e.Function + "\0" + e.File + "\0" + e.Member).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
    }
}
