using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Core.Debug;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>Fork shares a whole PMD range's expected-content table with the child until either side writes it.</summary>
public class ForkExpectedContentTests
{
    const ulong Base = 0x40000000, Mb2 = 2 << 20;

    [Theory]
    [InlineData("never")]    // order-0 pages in PTE tables
    [InlineData("always")]   // PMD-mapped THPs
    public void Parent_and_child_keep_their_own_expectations_whichever_writes_first(string thp)
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        Assert.Equal(0, k.SysfsWrite("enabled", thp));
        var p = k.CreateProcess("p");
        Assert.Equal((long)Base, k.Mmap(p, Base, 2 * Mb2, Prot.Read | Prot.Write));
        Assert.Equal(0, k.Access(p, Base, Base + 2 * Mb2, write: true));
        var c = k.Fork(p, "c")!;
        Assert.Equal(k.ExpectedAt(p, Base + 0x1000), k.ExpectedAt(c, Base + 0x1000));
        // the child writes first in the first 2M, the parent in the second
        Assert.Equal(0, k.Access(c, Base + 0x1000, Base + 0x2000, write: true));
        Assert.Equal(0, k.Access(p, Base + Mb2 + 0x1000, Base + Mb2 + 0x2000, write: true));
        Assert.NotEqual(k.ExpectedAt(p, Base + 0x1000), k.ExpectedAt(c, Base + 0x1000));
        Assert.NotEqual(k.ExpectedAt(p, Base + Mb2 + 0x1000), k.ExpectedAt(c, Base + Mb2 + 0x1000));
        Assert.Equal(k.ExpectedAt(p, Base + 0x2000), k.ExpectedAt(c, Base + 0x2000));
        Assert.True(k.Intact(p, Base, Base + 2 * Mb2));
        Assert.True(k.Intact(c, Base, Base + 2 * Mb2));
        Assert.Empty(InvariantChecker.Check(k));
        // the child unmaps the second 2M whole (its table goes) and MADV_DONTNEEDs a page of the first
        Assert.Equal(0, k.Munmap(c, Base + Mb2, Mb2));
        Assert.Equal(0, k.Madvise(c, Base + 0x3000, 0x1000, MadviseAdvice.Dontneed));
        Assert.Equal(0u, k.ExpectedAt(c, Base + 0x3000));
        Assert.NotEqual(0u, k.ExpectedAt(p, Base + 0x3000));
        Assert.True(k.Intact(p, Base, Base + 2 * Mb2));
        Assert.Empty(InvariantChecker.Check(k));
        k.Exit(c);
        Assert.True(k.Intact(p, Base, Base + 2 * Mb2));
        Assert.Empty(InvariantChecker.Check(k));
    }
}
