using MthpSim.Core.Fault;
using MthpSim.Core.Userfaultfd;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// fs/userfaultfd.c: the file a process reads its faults from, registration of ranges, and fault delivery.
public sealed partial class Kernel
{
    /// <summary>
    /// userfaultfd() and UFFDIO_API with no features for the process, read by <paramref name="reader"/>
    /// (its handler thread). A process has at most one; the registered VMAs point to it.
    /// </summary>
    public void UserfaultfdOpen(MmStruct mm, IUserfaultReader reader)
    {
        if (mm.Uffd != null) throw new InvalidOperationException($"process {mm.Name} already has a userfaultfd");
        mm.Uffd = new UserfaultfdCtx(reader);
    }

    /// <summary>userfaultfd_armed(): registered in any mode; such a VMA gets order-0 folios at fault.</summary>
    internal static bool UserfaultfdArmed(Vma.Vma vma) => (vma.Flags & VmFlags.UffdArmed) != 0;
    internal static bool UserfaultfdMissing(Vma.Vma vma) => (vma.Flags & VmFlags.UffdMissing) != 0;
    internal static bool UserfaultfdMinor(Vma.Vma vma) => (vma.Flags & VmFlags.UffdMinor) != 0;
    /// <summary>userfaultfd_pte_wp() / userfaultfd_huge_pmd_wp(): a write-protect registered VMA and an entry marked.</summary>
    internal static bool UserfaultfdEntryWp(Vma.Vma vma, ulong entry) =>
        (vma.Flags & VmFlags.UffdWp) != 0 && PageTable.Pte.IsUffdWp(entry);
    /// <summary>uffd_disable_fault_around(): write-protect and minor modes want every page's fault.</summary>
    internal static bool UffdDisableFaultAround(Vma.Vma vma) => (vma.Flags & (VmFlags.UffdWp | VmFlags.UffdMinor)) != 0;

    /// <summary>models validate_range(): page-aligned start and length, not empty, below TASK_SIZE.</summary>
    long ValidateUffdRange(ulong start, ulong len)
    {
        if (!PageAligned(start) || !PageAligned(len) || len == 0) return -Errno.EINVAL;
        if (start < MmapMinAddr || start >= TaskSize || len > TaskSize - start) return -Errno.EINVAL;
        return 0;
    }

    /// <summary>
    /// models vma_can_userfault(): minor mode only on shmem; anonymous memory and shmem (shared or
    /// private file mappings) otherwise, write protection included (CONFIG_PTE_MARKER_UFFD_WP).
    /// </summary>
    static bool VmaCanUserfault(Vma.Vma vma, VmFlags modes) => (modes & VmFlags.UffdMinor) == 0 || vma.File != null;

    /// <summary>
    /// models userfaultfd_register() and userfaultfd_register_range(): every VMA in the range (holes
    /// are allowed; at least one VMA must be there) gets the modes, replacing other modes, split and
    /// merged like mprotect. A VMA registered with these modes already is left alone.
    /// </summary>
    public long UffdRegister(MmStruct mm, ulong start, ulong len, VmFlags modes)
    {
        if (modes == VmFlags.None || (modes & ~VmFlags.UffdArmed) != 0) return -Errno.EINVAL;
        if (ValidateUffdRange(start, len) is var bad and < 0) return bad;
        ulong end = start + len;
        var vmas = mm.Intersecting(start, end).ToList();
        if (vmas.Count == 0) return -Errno.EINVAL;
        foreach (var v in vmas)
        {
            if (!VmaCanUserfault(v, modes)) return -Errno.EINVAL;
            if ((v.Flags & VmFlags.MayWrite) == 0) return -Errno.EPERM;
        }
        ModifyVmaRange(mm, start, end, v => (v.Flags & modes) == modes ? v.Flags : (v.Flags & ~VmFlags.UffdArmed) | modes);
        return 0;
    }

    /// <summary>
    /// models userfaultfd_unregister() → userfaultfd_clear_vma(): the VMAs in the range lose their
    /// modes (write-protected entries are released first) and merge back with their neighbours.
    /// </summary>
    public long UffdUnregister(MmStruct mm, ulong start, ulong len)
    {
        if (ValidateUffdRange(start, len) is var bad and < 0) return bad;
        ulong end = start + len;
        var vmas = mm.Intersecting(start, end).ToList();
        if (vmas.Count == 0) return -Errno.EINVAL;
        foreach (var v in vmas)
            if ((v.Flags & VmFlags.UffdWp) != 0) UffdWpRange(v, Math.Max(start, v.Start), Math.Min(end, v.End), enable: false);
        ModifyVmaRange(mm, start, end, v => v.Flags & ~VmFlags.UffdArmed);
        return 0;
    }

    /// <summary>
    /// models handle_userfault(): the fault becomes a message for the process's reader. When the reader
    /// resolves it, the fault returns VM_FAULT_RETRY and the access is retried (that retry is the fault
    /// mm_account_fault() counts); when nobody does, the thread waits. A reader whose ioctl found no
    /// memory ends it as VM_FAULT_OOM (live, the memcg OOM killer would have run in the ioctl).
    /// </summary>
    FaultResult HandleUserfault(Vma.Vma vma, ulong addr, UserfaultReason reason)
    {
        var ctx = vma.Mm.Uffd ?? throw new InvalidOperationException($"VMA {vma} is registered with userfaultfd but its process has none");
        ctx.Faults++;
        switch (reason)
        {
            case UserfaultReason.Missing: Paths.UffdMissing++; break;
            case UserfaultReason.WriteProtect: Paths.UffdWp++; break;
            default: Paths.UffdMinor++; break;
        }
        ulong page = addr & ~((ulong)Geo.PageSize - 1);
        return ctx.Reader.Read(this, vma.Mm, page, reason) switch
        {
            UserfaultOutcome.Resolved => FaultResult.Retry,
            UserfaultOutcome.Pending => FaultResult.Blocked,
            _ => FaultResult.Oom,
        };
    }

    /// <summary>Faults delivered to the process's userfaultfd reader so far.</summary>
    public long UffdFaults(MmStruct mm) => mm.Uffd?.Faults ?? 0;
}
