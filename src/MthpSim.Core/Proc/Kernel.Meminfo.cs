using System.Text;
using MthpSim.Core.Reclaim;

namespace MthpSim.Core;

// fs/proc/meminfo.c: the fields the model keeps.
public sealed partial class Kernel
{
    /// <summary>Every /proc/meminfo field the model can compute, in the kernel's order; values in kB.</summary>
    public static readonly string[] MeminfoFields =
    [
        "MemTotal", "MemFree", "MemAvailable", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)", "Inactive(anon)",
        "Active(file)", "Inactive(file)", "SwapTotal", "SwapFree", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab",
        "SReclaimable", "SUnreclaim", "PageTables", "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
    ];

    /// <summary>The fields that come from the LRU lists, which the model keeps only with a swap device.</summary>
    public static readonly string[] LruMeminfoFields = ["Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)"];

    long PagesToKb(long pages) => pages * (Geo.PageSize >> 10);

    /// <summary>models meminfo_proc_show() for one field; null for a field this machine does not keep.</summary>
    public long? Meminfo(string field)
    {
        if (Lru == null && Array.IndexOf(LruMeminfoFields, field) >= 0) return null;
        return field switch
        {
            "MemTotal" => PagesToKb(Buddy.TotalPages),
            "MemFree" => PagesToKb(Buddy.FreePages),
            "MemAvailable" => PagesToKb(MemAvailablePages()),
            // NR_FILE_PAGES less the swap cache: shmem's page cache and other files' (age pagecache)
            "Cached" => PagesToKb(NrShmem + NrFileCachePages),
            "SwapCached" => PagesToKb(SwapCache?.Pages ?? 0),
            "Active" => PagesToKb(NodeLruPages(LruList.ActiveAnon) + NodeLruPages(LruList.ActiveFile)),
            "Inactive" => PagesToKb(NodeLruPages(LruList.InactiveAnon) + NodeLruPages(LruList.InactiveFile)),
            "Active(anon)" => PagesToKb(NodeLruPages(LruList.ActiveAnon)),
            "Inactive(anon)" => PagesToKb(NodeLruPages(LruList.InactiveAnon)),
            "Active(file)" => PagesToKb(NodeLruPages(LruList.ActiveFile)),
            "Inactive(file)" => PagesToKb(NodeLruPages(LruList.InactiveFile)),
            "SwapTotal" => PagesToKb(SwapInfo?.Pages ?? 0),
            "SwapFree" => PagesToKb(SwapInfo is { } si ? si.Pages - si.InUse : 0),
            "AnonPages" => PagesToKb(NrAnonMapped),
            "Mapped" => PagesToKb(NrFileMapped),
            "Shmem" => PagesToKb(NrShmem),
            // The model's only kernel memory besides page tables is what age places: unmovable as
            // unreclaimable slab, reclaimable as reclaimable slab.
            "KReclaimable" or "SReclaimable" => PagesToKb(NrReclaimableKernelPages),
            "Slab" => PagesToKb(NrKernelPages),
            "SUnreclaim" => PagesToKb(NrKernelPages - NrReclaimableKernelPages),
            "PageTables" => PagesToKb(NrPageTablePages),
            "AnonHugePages" => PagesToKb(NrAnonThps),
            "ShmemHugePages" => PagesToKb(NrShmemThps),
            "ShmemPmdMapped" => PagesToKb(NrShmemPmdMapped),
            // Other files' page cache (age pagecache) is all base pages.
            "FileHugePages" or "FilePmdMapped" => 0,
            _ => null,
        };
    }

    /// <summary>The fields this machine keeps, in the kernel's order.</summary>
    public IEnumerable<string> MeminfoNames() => MeminfoFields.Where(f => Lru != null || Array.IndexOf(LruMeminfoFields, f) < 0);

    /// <summary>/proc/meminfo as the kernel prints it (show_val_kb(): the name and colon padded to 16
    /// columns, the value right-aligned in 8), for the fields this machine keeps.</summary>
    public string RenderMeminfo()
    {
        var sb = new StringBuilder();
        foreach (var f in MeminfoNames()) sb.Append(MeminfoLine(f, Meminfo(f)!.Value)).Append('\n');
        return sb.ToString();
    }

    /// <summary>One /proc/meminfo line as show_val_kb() prints it.</summary>
    public static string MeminfoLine(string field, long kb) => (field + ":").PadRight(16) + kb.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(8) + " kB";

    /// <summary>
    /// models si_mem_available() as far as the model goes: free memory plus the clean page cache
    /// and the reclaimable kernel memory reclaim could free, each less the part of it the low
    /// watermark keeps (half of it at most).
    /// </summary>
    long MemAvailablePages()
    {
        long low = WatermarkPages().Low;
        return Buddy.FreePages + NrFileCachePages - Math.Min(NrFileCachePages / 2, low)
            + NrReclaimableKernelPages - Math.Min(NrReclaimableKernelPages / 2, low);
    }
}
