using System.Text;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Runtime;

/// <summary>
/// An access over many pages takes runs of faults in one step (zero-page read faults, write faults on
/// pte_none entries: issue 9). The kernel takes them one page at a time, so the same access made one
/// page per statement must leave exactly the same machine: counters, fault counts, folios, free
/// lists, contents. Random layouts (pages written, read, dropped or swapped out before), mTHP sizes,
/// and a small cgroup limit that makes the run reclaim and swap in the middle of it.
/// </summary>
public class FaultRunEquivalenceTests
{
    public static TheoryData<int> Seeds() => new(Enumerable.Range(1, 40));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void An_access_over_a_run_leaves_the_machine_as_one_access_per_page_does(int seed)
    {
        var rng = new Random(seed);
        var head = new StringBuilder();
        bool swap = rng.Next(2) == 0;
        head.AppendLine(swap ? "machine memory=64M swap=32M" : "machine memory=64M");
        head.AppendLine($"sysfs enabled = {(rng.Next(3) == 0 ? "always" : "never")}");
        foreach (var size in new[] { "16kB", "64kB" })
            head.AppendLine($"sysfs hugepages-{size}/enabled = {(rng.Next(2) == 0 ? "always" : "never")}");
        head.AppendLine("process p");
        if (swap && rng.Next(2) == 0)
        {
            head.AppendLine("cgroup g limit=1M");
            head.AppendLine("p cgroup g");
        }
        head.AppendLine("p mmap buf 0x40000000 4M");
        const int pages = 1024;
        for (int i = rng.Next(6); i > 0; i--)
        {
            int off = rng.Next(pages), len = 1 + rng.Next(24);
            len = Math.Min(len, pages - off);
            string op = rng.Next(4) switch
            {
                0 => "read",
                1 => "madvise dontneed",
                2 when swap => "madvise pageout",
                _ => "write",
            };
            string[] words = op.Split(' ');
            head.AppendLine(words.Length == 1
                ? $"p {op} buf {off * 4}K {len * 4}K"
                : $"p madvise buf {off * 4}K {len * 4}K {words[1]}");
        }
        bool write = rng.Next(3) != 0;
        int first = rng.Next(pages / 2), count = 1 + rng.Next(pages / 2);
        string access = write ? "write" : "read";

        string whole = head + $"p {access} buf {first * 4}K {count * 4}K\n" + Tail;
        var perPage = new StringBuilder(head.ToString());
        for (int p = first; p < first + count; p++) perPage.AppendLine($"p {access} buf {p * 4}K 4K");
        perPage.Append(Tail);

        Assert.Equal(Run(perPage.ToString()), Run(whole));
    }

    const string Tail = """
        print vmstat
        print buddyinfo
        print p minflt
        print p majflt
        print p smaps buf
        print p thpmaps buf
        expect p intact buf == 1
        """;

    static string Run(string text)
    {
        var output = new StringWriter();
        var r = ScenarioRunner.RunText("t.mthp", text, new RunOptions { CheckInvariants = true, Output = output });
        Assert.True(r.Passed, string.Join("\n", r.Invalid.Select(d => d.ToString()).Concat(r.Failures.Select(f => f.Describe())).Append(r.Aborted ?? "")) + "\n" + text);
        return output.ToString();
    }
}
