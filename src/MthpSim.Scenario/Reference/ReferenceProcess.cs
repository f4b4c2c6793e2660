namespace MthpSim.Scenario.Reference;

/// <summary>
/// One process's memory as its program sees it, kept from the statements' semantics alone: which
/// virtual pages are mapped, and per page the content last stored there (zeroes where nothing was).
/// Page numbers are virtual addresses shifted by the page size.
/// </summary>
sealed class ReferenceProcess
{
    /// <summary>Set on content after MADV_FREE: the page may read either that content or zeroes.</summary>
    public const uint OldOrZero = 1u << 31;

    // Mapped ranges [Start, End) of page numbers, sorted, disjoint, adjacent ones joined.
    List<(ulong Start, ulong End)> _mapped = new();
    // Content per page (zeroes where nothing was stored).
    PageTokens _content = new();

    public IReadOnlyList<(ulong Start, ulong End)> Mapped => _mapped;

    public ReferenceProcess Clone() => new() { _mapped = new(_mapped), _content = _content.Clone() };

    /// <summary>The content of n pages from page, inside one block (<see cref="PageTokens.InBlock"/>); empty when all zeroes.</summary>
    public ReadOnlySpan<uint> Run(ulong page, int n) => _content.Run(page, n);

    public uint Get(ulong page) => _content.Get(page);

    public void Set(ulong page, uint content) => _content.Set(page, content);

    /// <summary>Whether any page of [start, end) is mapped.</summary>
    public bool AnyMapped(ulong start, ulong end) => _mapped.Any(r => r.Start < end && start < r.End);

    public bool IsMapped(ulong page) => _mapped.Any(r => r.Start <= page && page < r.End);

    /// <summary>The mapped parts of [start, end).</summary>
    public List<(ulong Start, ulong End)> MappedWithin(ulong start, ulong end) =>
        _mapped.Where(r => r.Start < end && start < r.End).Select(r => (Math.Max(r.Start, start), Math.Min(r.End, end))).ToList();

    /// <summary>A new mapping of zeroes over [start, end).</summary>
    public void Map(ulong start, ulong end)
    {
        Unmap(start, end);
        _mapped.Add((start, end));
        _mapped.Sort();
        var joined = new List<(ulong Start, ulong End)>();
        foreach (var r in _mapped)
            if (joined.Count > 0 && joined[^1].End == r.Start) joined[^1] = (joined[^1].Start, r.End);
            else joined.Add(r);
        _mapped = joined;
    }

    /// <summary>[start, end) is no longer mapped, and what it held is gone.</summary>
    public void Unmap(ulong start, ulong end)
    {
        var kept = new List<(ulong Start, ulong End)>();
        foreach (var r in _mapped)
        {
            if (r.End <= start || end <= r.Start) { kept.Add(r); continue; }
            if (r.Start < start) kept.Add((r.Start, start));
            if (end < r.End) kept.Add((end, r.End));
        }
        _mapped = kept;
        Zero(start, end);
    }

    /// <summary>Every page of [start, end) reads zeroes.</summary>
    public void Zero(ulong start, ulong end) => Update(start, end, _ => 0);

    /// <summary>Applies f to the content of every page of [start, end) that holds some.</summary>
    public void Update(ulong start, ulong end, Func<uint, uint> f) => _content.Update(start, end, f);
}
