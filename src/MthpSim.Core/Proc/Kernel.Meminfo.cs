using System.Text;
using MthpSim.Core.Reclaim;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// fs/proc/meminfo.c and mm/vmstat.c: the fields the model keeps.
public sealed partial class Kernel
{
    /// <summary>The /proc/meminfo fields the model computes, in the kernel's order; values in kB.</summary>
    public static readonly string[] MeminfoFields =
    [
        "MemTotal", "MemFree", "MemAvailable", "SwapCached", "SwapTotal", "SwapFree", "AnonPages", "Shmem",
        "PageTables", "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
    ];

    long PagesToKb(long pages) => pages * (Geo.PageSize >> 10);

    public long? Meminfo(string field) => field switch
    {
        "MemTotal" => PagesToKb(Buddy.TotalPages),
        "MemFree" or "MemAvailable" => PagesToKb(Buddy.FreePages),
        "SwapCached" => PagesToKb(SwapCache?.Pages ?? 0),
        "SwapTotal" => PagesToKb(SwapInfo?.Pages ?? 0),
        "SwapFree" => PagesToKb(SwapInfo is { } si ? si.Pages - si.InUse : 0),
        "AnonPages" => PagesToKb(NrAnonMapped),
        "PageTables" => PagesToKb(NrPageTablePages),
        "AnonHugePages" => PagesToKb(NrAnonThps),
        "Shmem" => PagesToKb(NrShmem),
        "ShmemHugePages" => PagesToKb(NrShmemThps),
        "ShmemPmdMapped" => PagesToKb(NrShmemPmdMapped),
        // The model has no file pages other than shmem's.
        "FileHugePages" or "FilePmdMapped" => 0,
        _ => null,
    };

    public string RenderMeminfo()
    {
        var sb = new StringBuilder();
        foreach (var f in MeminfoFields)
            sb.Append((f + ":").PadRight(16)).Append(Meminfo(f)!.Value.ToString().PadLeft(8)).Append(" kB\n");
        return sb.ToString();
    }

    /// <summary>/proc/vmstat lines the model keeps: the thp_* events plus a few gauges.</summary>
    public long? Vmstat(string name)
    {
        switch (name)
        {
            case "nr_free_pages": return Buddy.FreePages;
            case "nr_anon_pages": return NrAnonMapped;
            case "nr_page_table_pages": return NrPageTablePages;
            // Shown in THPs, as vmstat_item_print_in_thp() does.
            case "nr_anon_transparent_hugepages": return NrAnonThps >> Geo.PmdOrder;
            case "nr_mapped": return NrFileMapped;
            case "nr_shmem": return NrShmem;
            case "nr_swapcached": return SwapCache?.Pages ?? 0;
            case "nr_shmem_hugepages": return NrShmemThps >> Geo.PmdOrder;
            case "nr_shmem_pmdmapped": return NrShmemPmdMapped >> Geo.PmdOrder;
        }
        if (Lru == null && Array.IndexOf(LruVmstatNames, name) >= 0) return null;
        switch (name)
        {
            case "nr_inactive_anon": return NodeLruPages(LruList.InactiveAnon);
            case "nr_active_anon": return NodeLruPages(LruList.ActiveAnon);
            case "nr_inactive_file": return NodeLruPages(LruList.InactiveFile);
            case "nr_active_file": return NodeLruPages(LruList.ActiveFile);
        }
        return StatNames.TryVmEvent(name, out var e) ? Stats.Get(e) : null;
    }

    public IEnumerable<string> VmstatNames()
    {
        yield return "nr_free_pages";
        yield return "nr_anon_pages";
        yield return "nr_page_table_pages";
        yield return "nr_anon_transparent_hugepages";
        yield return "nr_mapped";
        yield return "nr_shmem";
        yield return "nr_shmem_hugepages";
        yield return "nr_shmem_pmdmapped";
        if (Lru != null)
            for (int i = 0; i < 4; i++) yield return LruVmstatNames[i];
        for (int i = 0; i < (int)VmEvent.Count; i++)
            if (Lru != null || Array.IndexOf(LruVmstatNames, StatNames.Of((VmEvent)i)) < 0) yield return StatNames.Of((VmEvent)i);
    }
}
