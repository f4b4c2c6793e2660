using System.Runtime.CompilerServices;
using MthpSim.Core.Fault;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// What a program's loads and stores do: fault when the entry does not allow the access, then touch.
public sealed partial class Kernel
{
    /// <summary>
    /// Touches every base page of [start, end) in ascending order, as loads (read) or stores (write).
    /// A store gives the page new content. Returns 0, -EFAULT at the first page without a mapping or
    /// permission (the program would get SIGSEGV there), or -ENOMEM when even an order-0 page is lacking.
    /// </summary>
    public long Access(MmStruct mm, ulong start, ulong end, bool write)
    {
        ulong pageSize = (ulong)Geo.PageSize;
        Vma.Vma? vma = null;
        for (ulong addr = start & ~(pageSize - 1); addr < end; addr += pageSize)
        {
            if (vma == null || addr >= vma.End || addr < vma.Start)
            {
                vma = mm.FindVma(addr);
                if (vma == null || !VmaPermits(vma, write)) return -Errno.EFAULT;
            }
            long rc = TouchPage(vma, addr, write);
            if (rc != 0) return rc;
        }
        return 0;
    }

    internal static bool VmaPermits(Vma.Vma vma, bool write) =>
        (vma.Flags & (write ? VmFlags.Write : VmFlags.Read)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    long TouchPage(Vma.Vma vma, ulong addr, bool write)
    {
        MmStruct mm = vma.Mm;
        var slot = mm.PageTables.Find(PmdIndex(addr));
        // Fast path: a present PTE that already allows the access (no fault in the kernel either).
        if (slot != null && slot.Kind == PmdKind.Table)
        {
            int idx = PteIndex(addr);
            ulong pte = slot.Ptes![idx];
            if (Pte.IsPresent(pte) && (!write || Pte.IsWrite(pte)))
            {
                slot.Ptes[idx] = pte | Pte.Young | (write ? Pte.Dirty : 0);
                if (write) Store(slot, idx, Pte.Pfn(pte));
                return 0;
            }
        }
        // A fault that backed off (its PTE changed while it allocated, e.g. under reclaim) is taken
        // again, as the CPU re-executes the access.
        for (int attempt = 0; ; attempt++)
        {
            var r = HandleMmFault(vma, addr, write);
            if (r == FaultResult.Oom) return -Errno.ENOMEM;
            if (r != FaultResult.Ok) return -Errno.EFAULT;
            if (MappedWith(mm, addr, write)) break;
            if (attempt == 3) throw new InvalidOperationException($"fault at {addr:x} made no progress");
        }
        if (write)
        {
            slot = mm.PageTables.Find(PmdIndex(addr))!;
            int pfn = ResolvePfn(mm, addr, out _);
            Store(slot, PteIndex(addr), pfn);
        }
        return 0;
    }

    /// <summary>A store: the page gets a new content token, and the program now expects that token.</summary>
    void Store(PmdSlot slot, int idx, int pfn)
    {
        uint token = NextToken();
        Map.SetContent(pfn, token);
        if (TrackExpectedContent) (slot.Expected ??= new uint[Geo.PtrsPerPte])[idx] = token;
    }

    /// <summary>Whether addr is mapped so that the access needs no fault (for MADV_POPULATE_*).</summary>
    bool MappedWith(MmStruct mm, ulong addr, bool write)
    {
        var slot = mm.PageTables.Find(PmdIndex(addr));
        if (slot == null) return false;
        ulong e = slot.Kind switch
        {
            PmdKind.Huge or PmdKind.HugeZero => slot.Leaf,
            PmdKind.Table => slot.Ptes![PteIndex(addr)],
            _ => 0,
        };
        return Pte.IsPresent(e) && (!write || Pte.IsWrite(e));
    }

    /// <summary>models exit_mmap(): unmaps everything; the process is gone.</summary>
    public void Exit(MmStruct mm)
    {
        foreach (var vma in mm.Vmas.ToList()) Munmap(mm, vma.Start, vma.End - vma.Start);
        UnpinAll(mm);
        mm.Exited = true;
        KhugepagedExit(mm);
        _mms.Remove(mm);
    }
}
