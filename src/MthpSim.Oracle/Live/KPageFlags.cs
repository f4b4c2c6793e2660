namespace MthpSim.Oracle.Live;

/// <summary>Bits of /proc/kpageflags (include/uapi/linux/kernel-page-flags.h) the oracle reads.</summary>
public static class KPageFlags
{
    public const int Anon = 12;
    public const int CompoundHead = 15;
    public const int CompoundTail = 16;
    public const int Thp = 22;
    public const int ZeroPage = 24;

    public static bool Has(ulong flags, int bit) => (flags & (1UL << bit)) != 0;
}

/// <summary>One page as the driver's <c>pages</c> command describes it.</summary>
public readonly record struct LivePage(bool Present, bool Swapped, long Pfn, ulong Flags, int Order, bool NextIsTail)
{
    public static LivePage Parse(string word)
    {
        if (word is "-" or "?") return new(false, false, -1, 0, -1, false);   // ? : pagemap could not be read there
        if (word == "s") return new(false, true, -1, 0, -1, false);
        var p = word.Split(':');
        return new(true, false, Convert.ToInt64(p[0], 16), Convert.ToUInt64(p[1], 16), int.Parse(p[2]), p[3] == "1");
    }

    /// <summary>What <c>folio ... kind</c> reports for this page.</summary>
    public string Kind =>
        Swapped ? "swap"
        : !Present ? "none"
        : KPageFlags.Has(Flags, KPageFlags.ZeroPage) ? (KPageFlags.Has(Flags, KPageFlags.Thp) ? "hugezero" : "zero")
        : KPageFlags.Has(Flags, KPageFlags.Anon) ? "anon" : "shmem";

    /// <summary>What <c>folio ... order</c> reports: -1 when nothing is mapped, 0 for the shared zero page.</summary>
    public int FolioOrder => !Present ? -1 : Kind == "zero" ? 0 : Order;
}

/// <summary>What the driver's <c>fpages</c> says of one file page.</summary>
public enum FilePageState { Hole, Swapped, NotUptodate, Cached, Unreadable }

/// <summary>One file page as the driver's <c>fpages</c> describes it (Driver/PROTOCOL.md).</summary>
public readonly record struct FilePage(FilePageState State, long Pfn, ulong Flags, int Order, bool NextIsTail, ulong Value)
{
    public static FilePage Parse(string word)
    {
        switch (word)
        {
            case "-": return new(FilePageState.Hole, -1, 0, -1, false, 0);
            case "s": return new(FilePageState.Swapped, -1, 0, -1, false, 0);
            case "u": return new(FilePageState.NotUptodate, -1, 0, -1, false, 0);
            case "?": return new(FilePageState.Unreadable, -1, 0, -1, false, 0);
        }
        var p = word.Split(':');
        if (p.Length != 5) throw new FormatException($"not an fpages entry: '{word}'");
        return new(FilePageState.Cached, Convert.ToInt64(p[0], 16), Convert.ToUInt64(p[1], 16), int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture),
            p[3] == "1", ulong.Parse(p[4], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>What <c>file FILE folio OFF kind</c> reports: a page-cache folio, uptodate or not, is shmem.</summary>
    public string Kind => State switch
    {
        FilePageState.Cached or FilePageState.NotUptodate => "shmem",
        FilePageState.Swapped => "swap",
        _ => "none",
    };

    /// <summary>What <c>file FILE folio OFF order</c> reports: -1 with no folio in the page cache (a hole, a swap entry).</summary>
    public int FolioOrder => State == FilePageState.Cached ? Order : -1;
}
