using System.Text;

namespace MthpSim.Core;

// mm/vmstat.c: /proc/buddyinfo.
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
        foreach (long n in freeBlocks) sb.Append(n.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(6)).Append(' ');
        return sb.ToString();
    }
}
