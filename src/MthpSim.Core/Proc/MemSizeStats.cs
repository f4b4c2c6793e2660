namespace MthpSim.Core.Proc;

/// <summary>The per-VMA totals of /proc/PID/smaps (struct mem_size_stats), in bytes; Pss in bytes &lt;&lt; 12.</summary>
public struct MemSizeStats
{
    public const int PssShift = 12;
    public long Resident, SharedClean, SharedDirty, PrivateClean, PrivateDirty, Referenced,
        Anonymous, LazyFree, AnonymousThp, ShmemThp, FileThp, Swap, Locked;
    public ulong Pss, PssDirty, SwapPss;

    public void Add(in MemSizeStats o)
    {
        Resident += o.Resident; SharedClean += o.SharedClean; SharedDirty += o.SharedDirty;
        PrivateClean += o.PrivateClean; PrivateDirty += o.PrivateDirty; Referenced += o.Referenced;
        Anonymous += o.Anonymous; LazyFree += o.LazyFree; AnonymousThp += o.AnonymousThp;
        ShmemThp += o.ShmemThp; FileThp += o.FileThp; Swap += o.Swap; Locked += o.Locked;
        Pss += o.Pss; PssDirty += o.PssDirty; SwapPss += o.SwapPss;
    }
}
