namespace MthpSim.Core.Shmem;

/// <summary>A tmpfs superblock (shmem_sb_info): its huge= option and its size limit in pages (max_blocks; 0 = none).</summary>
public sealed class TmpfsMount(string name, ShmemHuge huge, long maxPages)
{
    public string Name { get; } = name;
    public ShmemHuge Huge { get; } = huge;
    public long MaxPages { get; } = maxPages;
    /// <summary>Pages the mount's files hold (used_blocks).</summary>
    public long UsedPages;
    /// <summary>sbinfo->shrinklist: files given a large folio reaching past their EOF, in the order they were.</summary>
    internal readonly List<ShmemFile> ShrinkList = [];
}
