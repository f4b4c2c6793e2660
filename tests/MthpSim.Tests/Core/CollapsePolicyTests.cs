using MthpSim.Core.Khugepaged;
using MthpSim.Core.Khugepaged.Policies;
using MthpSim.Scenario.Runtime;

namespace MthpSim.Tests.Core;

/// <summary>A fifth design is one class plus one registration: shown with a deliberately simple one.</summary>
public class CollapsePolicyTests
{
    /// <summary>Scans like 6.18 but only ever collapses the first 64K of a window (order 4).</summary>
    sealed class FirstBlockOnlyPolicy : ICollapsePolicy
    {
        public string Name => "test-first-64k";
        public bool HasCollapseStats => false;
        public bool VmEventsAtEveryOrder => false;
        public bool KhugepagedEnabled(MthpSim.Core.Kernel k) => true;
        public ulong KhugepagedOrders(MthpSim.Core.Kernel k, MthpSim.Core.Vma.Vma vma) =>
            k.ThpVmaAllowableOrders(vma, MthpSim.Core.TvaType.Khugepaged, k.Geo.AnonOrders);
        public ScanResult CollapseWindow(PmdWindow w)
        {
            var s = w.Scan(0, 16, w.SysfsLimits(skipIfLargerFolio: true) with { MaxPtesShared = 0 }, countVmEvents: false);
            return s.Result != ScanResult.Succeed ? s.Result : w.Collapse(0, 4, w.SysfsLimits(skipIfLargerFolio: true));
        }
    }

    [Fact]
    public void A_registered_policy_is_selected_by_name_and_drives_khugepaged()
    {
        CollapsePolicies.Register("test-first-64k", () => new FirstBlockOnlyPolicy());
        var r = ScenarioRunner.RunText("p.mthp", """
            policy collapse = test-first-64k
            sysfs enabled = never
            sysfs hugepages-64kB/enabled = madvise
            process p
            p mmap a 0x40000000 4M
            p write a 0 64K
            p write a 2M 64K
            p madvise a 0 4M hugepage
            khugepaged full-scans 1
            expect p folio a 0 order == 4
            expect p folio a 2M order == 4
            expect p folio a 4K order == 4
            expect p smaps a AnonHugePages == 0
            expect p intact a == 1
            """, new RunOptions { CheckInvariants = true });
        Assert.True(r.Passed, string.Join("\n", r.Failures.Select(f => f.Describe())) + r.Aborted + string.Join("\n", r.Invalid));
    }

    [Fact]
    public void The_four_designs_of_the_issue_are_registered()
    {
        foreach (var name in new[] { "pmd-only", "mthp", "mthp-bitmap-rfc", "mthp-per-order-rfc" })
            Assert.Equal(name, CollapsePolicies.Create(name)!.Name);
    }
}
