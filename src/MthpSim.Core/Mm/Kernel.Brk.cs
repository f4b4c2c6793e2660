using MthpSim.Core.Vma;

namespace MthpSim.Core;

// mm/mmap.c brk() and mm/vma.c do_brk_flags(): the heap.
public sealed partial class Kernel
{
    /// <summary>What execve's ELF loader leaves: mm->start_brk = mm->brk = <paramref name="start"/>, no heap VMA yet.</summary>
    public void SetBrkStart(MmStruct mm, ulong start) => (mm.StartBrk, mm.Brk) = (start, start);

    /// <summary>
    /// models brk(): moves the break. Growth maps the new pages anonymous and writable, extending the
    /// heap VMA (do_brk_flags() expands only a VMA that starts at or above start_brk, so the first
    /// growth makes a VMA of its own beside the bss); shrinking unmaps them. Returns the break after
    /// the call: the old one when the request is refused (below start_brk, or running into a mapping).
    /// </summary>
    public long Brk(MmStruct mm, ulong brk)
    {
        using var cost = ChargeTo(mm, Cost.CostOp.Mmap);
        if (brk < mm.StartBrk) return (long)mm.Brk;
        ulong newTop = PageAlignUp(brk), oldTop = PageAlignUp(mm.Brk);
        if (newTop == oldTop) { mm.Brk = brk; return (long)brk; }
        if (brk <= mm.Brk)
        {
            if (!mm.AnyIntersecting(newTop, oldTop)) return (long)mm.Brk;   // not the heap's: leave it
            mm.Brk = brk;
            DoMunmap(mm, newTop, oldTop - newTop);
            return (long)brk;
        }
        // the next mapping must leave a page free above the new break
        if (mm.AnyIntersecting(oldTop, newTop + (ulong)Geo.PageSize) || newTop > TaskSize) return (long)mm.Brk;
        var vma = new Vma.Vma
        {
            Start = oldTop, End = newTop, Mm = mm, PgOff = (long)(oldTop >> PageShift),
            Flags = VmFlags.Read | VmFlags.Write | VmFlags.MayRead | VmFlags.MayWrite | VmFlags.MayExec | VmFlags.Account,
        };
        // do_brk_flags(): only the heap's own VMA is expanded (vma_prev_limit(start_brk)), with no new object
        mm.Insert(vma);
        if (mm.Vmas.Prev(vma) is { } prev && prev.Start >= mm.StartBrk && prev.End == oldTop && CanMerge(prev, vma))
        {
            AbsorbVma(mm, prev, vma);
            AnonVmaRelink(prev);
        }
        else if (!ChargeVmArea(vma))
        {
            mm.Vmas.Remove(vma);
            return (long)mm.Brk;
        }
        mm.Brk = brk;
        return (long)brk;
    }
}
