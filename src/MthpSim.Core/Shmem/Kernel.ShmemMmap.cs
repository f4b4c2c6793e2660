using MthpSim.Core.Shmem;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/mmap.c and mm/shmem.c: shared and file mappings of shmem.
public sealed partial class Kernel
{
    /// <summary>
    /// mmap(addr or NULL, len, prot, MAP_SHARED|MAP_ANONYMOUS) when <paramref name="file"/> is null
    /// (shmem_zero_setup(): a new file of the mapping's size), or mmap of a shmem file at byte
    /// <paramref name="offset"/>, MAP_SHARED or MAP_PRIVATE. Returns the start address or a negative errno.
    /// </summary>
    public long MmapShmem(MmStruct mm, ulong? addr, ulong len, Prot prot, ShmemFile? file, long offset, bool shared)
    {
        if (len == 0 || offset < 0 || !PageAligned((ulong)offset)) return -Errno.EINVAL;
        if (!shared && file == null) throw new ArgumentException("a private anonymous mapping is not shmem");
        len = PageAlignUp(len);
        long pgoff = offset >> PageShift;
        ulong start;
        if (addr is ulong fixedAddr)
        {
            if (FixedNoReplaceCheck(mm, fixedAddr, len) is var rc and < 0) return rc;
            start = fixedAddr;
        }
        else
        {
            long a = ShmemGetUnmappedArea(mm, len, pgoff, file);
            if (a < 0) return a;
            start = (ulong)a;
        }
        var flags = VmFlags.MayRead | VmFlags.MayWrite | VmFlags.MayExec | ProtToFlags(prot);
        if (shared) flags |= VmFlags.Shared | VmFlags.MayShare;
        else if ((prot & Prot.Write) != 0) flags |= VmFlags.Account;
        var vma = new Vma.Vma(start, start + len) { Flags = flags, PgOff = pgoff, Mm = mm, File = file };
        // shared anonymous memory never merges (each mapping has a file of its own): its object is
        // charged before the file is made
        bool anonShared = file == null;
        if (anonShared && !ChargeVmArea(vma)) return FaultOomRc(mm);
        vma.File = file ??= NewFile("dev/zero", null, (long)len, anonShared: true);
        mm.Insert(vma);
        if (!MergeOrChargeNewVma(mm, vma, charged: anonShared, out bool merged)) return FaultOomRc(mm);
        // __mmap_new_vma(): a new file VMA is offered to khugepaged even when nothing merges (a merged
        // one was, by MergeAround)
        if (!merged) KhugepagedEnterVma(vma);
        return (long)start;
    }

    /// <summary>
    /// models shmem_get_unmapped_area(): the usual top-down search, then, where large folios may be
    /// used, a placement whose address is congruent to the file offset modulo the folio size (the PMD
    /// size for a file whose superblock allows huge pages; for a shared anonymous mapping the largest
    /// enabled shmem size), so that whole folios can be mapped.
    /// </summary>
    long ShmemGetUnmappedArea(MmStruct mm, ulong len, long pgoff, ShmemFile? file)
    {
        long plain = UnmappedAreaTopdown(mm, len);
        if (plain < 0 || Thp.ShmemEnabled == MthpSim.Core.Thp.ShmemEnabled.Deny) return plain;
        ulong hsize = (ulong)Geo.PmdSize;
        if (Thp.ShmemEnabled != MthpSim.Core.Thp.ShmemEnabled.Force)
        {
            var huge = file?.Mount?.Huge ?? Thp.InternalMountHuge;
            ulong orders = 0;
            if (file == null)
            {
                orders = Thp.ShmemAlways | Thp.ShmemWithinSize | Thp.ShmemAdvise;
                if (huge != ShmemHuge.Never) orders |= Thp.ShmemInherit;
                if (orders != 0) hsize = (ulong)Geo.PageSize << HighestOrder(orders);
            }
            if (huge == ShmemHuge.Never && orders == 0) return plain;
        }
        if (len < hsize) return plain;
        ulong off = ((ulong)pgoff << PageShift) & (hsize - 1);
        if (off != 0 && off + len < 2 * hsize) return plain;
        if (((ulong)plain & (hsize - 1)) == off) return plain;
        long inflated = UnmappedAreaTopdown(mm, len + hsize - (ulong)Geo.PageSize);
        if (inflated < 0) return plain;
        ulong ia = (ulong)inflated, io = ia & (hsize - 1);
        ia += off - io;
        if (io > off) ia += hsize;
        return ia + len > TaskSize ? plain : (long)ia;
    }
}
