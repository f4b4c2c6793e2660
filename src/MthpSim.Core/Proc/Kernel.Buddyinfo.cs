using System.Globalization;
using System.Text;
using MthpSim.Core.PageAlloc;

namespace MthpSim.Core;

// mm/vmstat.c: /proc/buddyinfo and /proc/pagetypeinfo.
public sealed partial class Kernel
{
    /// <summary>
    /// models frag_show_print(): free blocks per order of each zone. The model has one node and one
    /// zone, which it names Normal (a real x86 machine also lists DMA and DMA32 below 4 GiB).
    /// </summary>
    public string RenderBuddyinfo() =>
        BuddyinfoLine("Normal", Enumerable.Range(0, Buddy.MaxOrder + 1).Select(o => Buddy.NrFreeWithFresh(o))) + "\n";

    /// <summary>One zone's /proc/buddyinfo line: node and zone, then each order's count in 6 columns, each followed by a space.</summary>
    public static string BuddyinfoLine(string zone, IEnumerable<long> freeBlocks)
    {
        var sb = new StringBuilder("Node 0, zone ").Append(zone.PadLeft(8)).Append(' ');
        foreach (long n in freeBlocks) sb.Append(Num(n).PadLeft(6)).Append(' ');
        return sb.ToString();
    }

    static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// models pagetypeinfo_show(): the pageblock size, free blocks per order of each migratetype
    /// (pagetypeinfo_showfree_print()) and the pageblocks of each type
    /// (pagetypeinfo_showblockcount_print()), for the one Normal zone. The mixed-block count needs
    /// page_owner, which the live kernel does not enable, so it is not printed.
    /// </summary>
    public string RenderPagetypeinfo()
    {
        var free = new long[MigrateTypes.Count][];
        for (int t = 0; t < MigrateTypes.Count; t++)
            free[t] = Enumerable.Range(0, Buddy.MaxOrder + 1).Select(o => Buddy.NrFreeWithFresh(o, (MigrateType)t)).ToArray();
        return PagetypeinfoText(Buddy.PageblockOrder, "Normal", free, Buddy.BlockCounts());
    }

    /// <summary>/proc/pagetypeinfo of one zone: free blocks per migratetype (rows) and order (columns), then pageblocks per type.</summary>
    public static string PagetypeinfoText(int pageblockOrder, string zone, long[][] freeByType, long[] blocksByType)
    {
        var sb = new StringBuilder();
        sb.Append("Page block order: ").Append(Num(pageblockOrder)).Append('\n');
        sb.Append("Pages per block:  ").Append(Num(1L << pageblockOrder)).Append("\n\n");
        sb.Append("Free pages count per migrate type at order".PadRight(43)).Append(' ');
        for (int o = 0; o < freeByType[0].Length; o++) sb.Append(Num(o).PadLeft(6)).Append(' ');
        sb.Append('\n');
        for (int t = 0; t < MigrateTypes.Count; t++)
        {
            sb.Append("Node    0, zone ").Append(zone.PadLeft(8)).Append(", type ").Append(MigrateTypes.Name((MigrateType)t).PadLeft(12)).Append(' ');
            foreach (long n in freeByType[t]) sb.Append(Num(n).PadLeft(6)).Append(' ');
            sb.Append('\n');
        }
        sb.Append('\n').Append("Number of blocks type ".PadRight(23));
        for (int t = 0; t < MigrateTypes.Count; t++) sb.Append(MigrateTypes.Name((MigrateType)t).PadLeft(12)).Append(' ');
        sb.Append('\n').Append("Node 0, zone ").Append(zone.PadLeft(8)).Append(' ');
        foreach (long n in blocksByType) sb.Append(Num(n).PadLeft(12)).Append(' ');
        sb.Append('\n');
        return sb.ToString();
    }
}
