namespace MthpSim.Scenario.Syntax;

/// <summary>The fixed words of the language, in one place so dispatch, reserved-name checks
/// and "did you mean" hints agree.</summary>
internal static class Keywords
{
    /// <summary>Words that start a statement on their own.</summary>
    public static readonly string[] Statements =
        ["machine", "sysfs", "policy", "process", "memfd", "tmpfs", "file", "ftruncate", "fallocate", "lseek", "pwrite", "pread", "sleep", "reclaim", "khugepaged", "expect", "print", "cgroup", "replay", "age", "compact", "sysctl"];

    /// <summary>Operations written after a process name: P VERB ...</summary>
    public static readonly string[] Verbs =
        ["mmap", "munmap", "mprotect", "madvise", "read", "write", "rmw", "mremap", "fork", "exit", "prctl", "pin", "unpin", "cgroup", "uffd"];

    /// <summary>Names a process may not take, because a line or observable starting with them
    /// would be ambiguous.</summary>
    public static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "machine", "sysfs", "policy", "process", "memfd", "tmpfs", "file", "ftruncate", "fallocate", "lseek", "pwrite", "pread", "sleep",
        "reclaim", "khugepaged", "expect", "print", "rc", "vmstat", "meminfo", "stats", "cgroup", "replay", "age", "compact", "sysctl",
    };

    /// <summary>Observable heads that are not a process name.</summary>
    public static readonly string[] GlobalObservables = ["rc", "sysfs", "vmstat", "meminfo", "file", "cgroup"];

    /// <summary>Observables written after a process name: P KIND REGION ...</summary>
    public static readonly string[] ProcessObservables = ["smaps", "thpmaps", "folio", "intact", "minflt", "majflt", "alive", "uffd", "cost", "work", "tlb", "contpte"];

    public static readonly Dictionary<string, Prot> Prots = new(StringComparer.Ordinal)
    {
        ["none"] = Prot.None, ["r"] = Prot.Read, ["rw"] = Prot.ReadWrite,
    };

    public static readonly Dictionary<string, Advice> Advices = new(StringComparer.Ordinal)
    {
        ["hugepage"] = Advice.Hugepage, ["nohugepage"] = Advice.Nohugepage, ["dontneed"] = Advice.Dontneed,
        ["free"] = Advice.Free, ["collapse"] = Advice.Collapse, ["populate_read"] = Advice.PopulateRead,
        ["populate_write"] = Advice.PopulateWrite, ["pageout"] = Advice.Pageout, ["cold"] = Advice.Cold,
        ["remove"] = Advice.Remove,
    };

    public static readonly Dictionary<string, CompareOp> CompareOps = new(StringComparer.Ordinal)
    {
        ["=="] = CompareOp.Eq, ["!="] = CompareOp.Ne, ["<"] = CompareOp.Lt,
        ["<="] = CompareOp.Le, [">"] = CompareOp.Gt, [">="] = CompareOp.Ge,
    };

    public static readonly string[] CollapsePolicies = ["pmd-only", "mthp", "mthp-bitmap-rfc", "mthp-per-order-rfc"];

    public static readonly string[] Arches = ["x86_64", "arm64"];

    public static readonly string[] MachineKeys = ["memory", "page", "arch", "swap", "swapdev", "rmw", "seed"];
    public static readonly string[] SwapDevs = ["zram", "disk", "file"];
    public static readonly string[] RmwModes = ["read-then-write", "write"];

    public static readonly Dictionary<string, UffdOp> UffdOps = new(StringComparer.Ordinal)
    {
        ["register"] = UffdOp.Register, ["unregister"] = UffdOp.Unregister, ["copy"] = UffdOp.Copy,
        ["zeropage"] = UffdOp.Zeropage, ["continue"] = UffdOp.Continue, ["wp"] = UffdOp.WriteProtect,
    };
    public static readonly Dictionary<string, UffdModes> UffdModeNames = new(StringComparer.Ordinal)
    {
        ["missing"] = UffdModes.Missing, ["wp"] = UffdModes.Wp, ["minor"] = UffdModes.Minor,
    };
    public static readonly Dictionary<string, UffdHandler> UffdHandlers = new(StringComparer.Ordinal)
    {
        ["copy"] = UffdHandler.Copy, ["zeropage"] = UffdHandler.Zeropage, ["none"] = UffdHandler.None,
    };
}
