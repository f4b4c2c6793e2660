using MthpSim.Core;
using MthpSim.Core.Userfaultfd;
using MthpSim.Core.Vma;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Scenario.Runtime;

/// <summary>
/// A scenario process's userfaultfd handler thread: it resolves each fault by what <c>handler=</c>
/// said for the range when it was registered. A missing page gets one base page of new content
/// (UFFDIO_COPY, <c>copy</c>) or the zero page (UFFDIO_ZEROPAGE, <c>zeropage</c>); a minor fault is
/// resolved by UFFDIO_CONTINUE of its page and a write-protect fault by clearing the page's write
/// protection (UFFDIO_WRITEPROTECT), for either; with <c>none</c> nothing resolves it.
/// </summary>
public sealed class UffdHandlerThread : IUserfaultReader
{
    /// <summary>[Start, End) ranges with their handler, latest registration last; earlier ones may be covered.</summary>
    readonly List<(ulong Start, ulong End, UffdHandler Handler)> _ranges = new();

    /// <summary>A successful registration of [start, end) with this handler.</summary>
    public void Registered(ulong start, ulong end, UffdHandler handler)
    {
        _ranges.RemoveAll(r => r.Start >= start && r.End <= end);
        _ranges.Add((start, end, handler));
    }

    /// <summary>
    /// The handler of the latest registration holding the address; for a fault outside every range
    /// registered (a registered VMA that mremap grew in place), that of the latest registration.
    /// </summary>
    UffdHandler HandlerAt(ulong address)
    {
        for (int i = _ranges.Count - 1; i >= 0; i--)
            if (address >= _ranges[i].Start && address < _ranges[i].End) return _ranges[i].Handler;
        return _ranges.Count > 0 ? _ranges[^1].Handler : UffdHandler.Copy;
    }

    public UserfaultOutcome Read(Kernel kernel, MmStruct mm, ulong address, UserfaultReason reason)
    {
        var handler = HandlerAt(address);
        if (handler == UffdHandler.None) return UserfaultOutcome.Pending;
        ulong page = (ulong)kernel.Geo.PageSize;
        long rc = reason switch
        {
            UserfaultReason.Minor => kernel.UffdContinue(mm, address, page),
            UserfaultReason.WriteProtect => kernel.UffdWriteProtect(mm, address, page, enable: false),
            _ when handler == UffdHandler.Zeropage => kernel.UffdZeropage(mm, address, page),
            _ => kernel.UffdCopy(mm, address, page),
        };
        // An ioctl that found no memory for the copy ends the access as a failed allocation would.
        return rc >= 0 ? UserfaultOutcome.Resolved : rc == -Errno.ENOMEM ? UserfaultOutcome.NoMemory : UserfaultOutcome.Pending;
    }
}
