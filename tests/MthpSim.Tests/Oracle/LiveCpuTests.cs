using MthpSim.Core;
using MthpSim.Core.Arch;
using MthpSim.Oracle.Live;

namespace MthpSim.Tests.Oracle;

/// <summary>smaps shows ProtectionKey only where the CPU has protection keys (arch_pkeys_enabled()).</summary>
public class LiveCpuTests
{
    [Theory]
    [InlineData("flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep pku ospke avx512_vnni\n", true)]
    [InlineData("flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep avx2 sha_ni\n", false)]
    [InlineData("flags\t\t: fpu pku\n", false)]   // the CPU has them, the OS did not enable them
    [InlineData("processor\t: 0\nmodel name\t: AMD EPYC\n", false)]
    public void Protection_keys_are_the_flag_the_os_sets(string cpuinfo, bool expected) =>
        Assert.Equal(expected, LiveCpu.ProtectionKeys(cpuinfo));

    [Fact]
    public void Without_protection_keys_smaps_has_no_ProtectionKey_line()
    {
        var k = new Kernel(MachineConfig.Default with { MemoryBytes = 256L << 20 });
        var p = k.CreateProcess("p");
        Assert.Equal(0x40000000L, k.Mmap(p, 0x40000000, 1 << 20, Prot.Read | Prot.Write));
        Assert.Contains("ProtectionKey:         0\nVmFlags:", k.RenderSmaps(p.Vmas));
        k.ProtectionKeys = false;
        string text = k.RenderSmaps(p.Vmas);
        Assert.DoesNotContain("ProtectionKey", text);
        Assert.Contains("THPeligible:           0\nVmFlags: rd wr mr mw me ac \n", text);
        Assert.Null(k.SmapsField(p.Vmas.First(), k.SmapsGather(p.Vmas.First()), "ProtectionKey"));
    }
}
