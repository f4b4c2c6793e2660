using System.Globalization;

namespace MthpSim.Oracle.Fragmentation;

/// <summary>
/// One run of the issue-18 experiment: memory filled in base pages, one page pinned long-term in a
/// share of the fill's 2M blocks, the rest of the fill freed, then 2M and 64K faults measured under
/// each <c>defrag</c>, before and after compaction. Both sides run the same geometry, taken from the
/// live machine's /proc/meminfo when the run starts.
/// </summary>
/// <remarks>
/// <paramref name="OthersMovable"/>: the model's stand-in for what other programs hold at the start.
/// False (the default): all of MemTotal − MemAvailable is unmovable kernel memory. True: their
/// anonymous and shmem memory (AnonPages + Shmem) is a process of its own, written before the fill
/// (movable, so compaction can move it), and only the rest is unmovable.
/// </remarks>
/// <paramref name="Movable"/>: the page kept in each chosen block is only kept mapped, not pinned, so
/// compaction can move it and make the block whole again (<c>--hold movable</c>).
public sealed record FragmentationExperiment(double PinShare, long FillHeadroom, long Measure, ulong Seed, bool OthersMovable = false, bool Movable = false)
{
    public const long PageSize = 4096;
    public const long PmdSize = 2L << 20;
    public const long Size64K = 64L << 10;
    /// <summary>The least headroom a run may leave: the machine, and whatever else runs on it, must keep working.</summary>
    public const long MinHeadroom = 3L << 30;

    /// <summary>What is done to the page kept in a chosen block, as the live driver's HOLD argument names it.</summary>
    public string Hold => Movable ? "movable" : "pinned";

    public static readonly FragmentationExperiment Default = new(1.0, 3L << 30, 4L << 30, 1);

    /// <summary>The phases, in the order both sides run them.</summary>
    public static readonly FragmentationPhase[] Phases =
    [
        new("2m-never", PmdSize, "never", Madvised: false, CompactFirst: false),
        new("2m-madvise", PmdSize, "madvise", Madvised: true, CompactFirst: false),
        new("64k-never", Size64K, "never", Madvised: false, CompactFirst: false),
        new("2m-after-compact", PmdSize, "never", Madvised: false, CompactFirst: true),
    ];

    /// <summary>Why the arguments cannot be run, or null.</summary>
    public string? Invalid()
    {
        if (!(PinShare >= 0 && PinShare <= 1)) return $"--pin-share must be between 0 and 1, got {PinShare.ToString(CultureInfo.InvariantCulture)}";
        if (FillHeadroom < MinHeadroom) return $"--fill-headroom must be at least {MinHeadroom >> 30}G (the machine must keep that much free), got {FillHeadroom}";
        if (Measure < PmdSize || Measure % PmdSize != 0) return $"--measure must be a positive multiple of 2M, got {Measure}";
        return null;
    }

    /// <summary>A size as the scenario language and the options write it: a number with K, M, G (or none: bytes).</summary>
    public static long? ParseSize(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return null;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v <= long.MaxValue / unit ? v * unit : null;
    }
}

/// <summary>
/// A measurement phase: a fresh region touched once per <paramref name="FolioSize"/> under
/// <paramref name="Defrag"/>, with MADV_HUGEPAGE when <paramref name="Madvised"/>, after a write
/// to /proc/sys/vm/compact_memory when <paramref name="CompactFirst"/>.
/// </summary>
public sealed record FragmentationPhase(string Name, long FolioSize, string Defrag, bool Madvised, bool CompactFirst)
{
    public string SizeKnob => FolioSize == FragmentationExperiment.PmdSize ? "hugepages-2048kB/enabled" : "hugepages-64kB/enabled";
}

/// <summary>The machine the run starts on, from /proc/meminfo (bytes).</summary>
public sealed record MachineGeometry(long MemTotal, long MemAvailable, long MemFree, long AnonPages = 0, long Shmem = 0)
{
    public static MachineGeometry ReadLive()
    {
        var kb = new Dictionary<string, long>();
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            var parts = line.Split(':', 2);
            if (parts.Length == 2 && long.TryParse(parts[1].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long v)) kb[parts[0]] = v;
        }
        return new MachineGeometry(kb["MemTotal"] << 10, kb["MemAvailable"] << 10, kb["MemFree"] << 10,
            kb.GetValueOrDefault("AnonPages") << 10, kb.GetValueOrDefault("Shmem") << 10);
    }

    /// <summary>What the fill takes: all available memory but the headroom, in whole pages.</summary>
    public long Fill(long headroom) => Math.Max(0, (MemAvailable - headroom) / FragmentationExperiment.PageSize * FragmentationExperiment.PageSize);

    /// <summary>The simulated machine's memory: MemTotal rounded down to 4M (the model wants whole pairs of pageblocks).</summary>
    public long SimulatedMemory => MemTotal / (4L << 20) * (4L << 20);

    /// <summary>Memory the kernel and other programs hold at the start, which the model takes as unmovable.</summary>
    public long Held => Math.Max(0, (MemTotal - MemAvailable) / FragmentationExperiment.PageSize * FragmentationExperiment.PageSize);

    /// <summary>
    /// Other programs' anonymous and shmem memory (movable), at most what is held, in whole 2M: the
    /// fill then starts at a pageblock boundary, so its virtual 2M blocks stay its physical ones.
    /// </summary>
    public long HeldMovable => Math.Min(Held, AnonPages + Shmem) / FragmentationExperiment.PmdSize * FragmentationExperiment.PmdSize;
}
