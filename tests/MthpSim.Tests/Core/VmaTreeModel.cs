using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>
/// Drives a <see cref="VmaTree"/> and a naive model side by side (a sorted list of ranges, answers by
/// linear scans) and fails on the first answer that differs. Addresses are pages of a small space, so
/// that random operations collide, fill it and leave gaps of every size.
/// </summary>
sealed class VmaTreeModel
{
    public const ulong Page = 0x1000;
    /// <summary>The space operations use: [Base, Base + Pages * Page).</summary>
    public const ulong Base = 0x10000;
    readonly int _pages;
    readonly VmaTree _tree = new();
    readonly List<Vma> _model = new();   // sorted by Start

    public VmaTreeModel(int pages) => _pages = pages;

    public int Count => _model.Count;

    ulong Addr(int page) => Base + (ulong)page * Page;

    /// <summary>Applies one operation chosen by <paramref name="kind"/>, with <paramref name="a"/> and <paramref name="b"/> as its arguments, then compares.</summary>
    public void Step(int kind, int a, int b)
    {
        int span = _pages + 2;
        switch (kind % 10)
        {
            case 0: InsertAt(Addr(a % _pages), (ulong)(1 + b % 8) * Page); break;
            case 1: if (_model.Count > 0) Remove(_model[a % _model.Count]); break;
            case 2: CompareQueries(Addr(a % span - 1) + (ulong)(b % 3) * (Page / 2)); break;
            case 3: if (_model.Count > 0) Resize(_model[a % _model.Count], b); break;
            case 4: CompareEmptyArea(Addr(a % span - 1), Addr(b % span - 1), (ulong)(a / span % 10) * Page, rev: true); break;
            case 5: CompareEmptyArea(Addr(a % span - 1), Addr(b % span - 1), (ulong)(b / span % 10) * Page, rev: false); break;
            case 6: PlaceTopDown((ulong)(1 + b % 6) * Page, Addr(a % span)); break;
            case 7: if (_model.Count > 0) CompareNeighbours(_model[a % _model.Count]); break;
            case 8: if (_model.Count > 1) Absorb(a % (_model.Count - 1), b % 2 == 0); break;
            default: CompareIteration(Addr(a % span - 1), Addr(b % span - 1)); break;
        }
        CompareStructure();
    }

    void InsertAt(ulong start, ulong len)
    {
        if (_model.Any(v => v.Start < start + len && start < v.End)) return;
        var vma = new Vma { Start = start, End = start + len };
        _tree.Insert(vma);
        int i = _model.FindIndex(v => v.Start > start);
        _model.Insert(i < 0 ? _model.Count : i, vma);
    }

    void Remove(Vma vma)
    {
        _tree.Remove(vma);
        _model.Remove(vma);
        Assert.False(_tree.Contains(vma));
    }

    // Moves either edge of a VMA anywhere between its neighbours, as split, merge and mremap do.
    void Resize(Vma vma, int choice)
    {
        int i = _model.IndexOf(vma);
        ulong low = i > 0 ? _model[i - 1].End : Base;
        ulong high = i + 1 < _model.Count ? _model[i + 1].Start : Math.Max(Addr(_pages), vma.End);
        ulong pages = (high - low) / Page;
        ulong p = (ulong)choice % pages, q = (ulong)choice / 7 % pages;
        ulong start = low + Math.Min(p, q) * Page, end = low + (Math.Max(p, q) + 1) * Page;
        _tree.SetRange(vma, start, end);
        Assert.Equal((start, end), (vma.Start, vma.End));
    }

    // Merges two neighbours that touch (first making them touch, as a merge only joins adjacent VMAs).
    void Absorb(int i, bool intoLower)
    {
        Vma lower = _model[i], upper = _model[i + 1];
        if (lower.End != upper.Start) _tree.SetRange(lower, lower.Start, upper.Start);
        Assert.Throws<InvalidOperationException>(() => _tree.Absorb(lower, lower));
        if (intoLower) { _tree.Absorb(lower, upper); _model.Remove(upper); Assert.Equal(upper.End, lower.End); }
        else { _tree.Absorb(upper, lower); _model.Remove(lower); Assert.Equal(lower.Start, upper.Start); }
    }

    void CompareQueries(ulong addr)
    {
        Assert.Same(_model.FirstOrDefault(v => v.Contains(addr)), _tree.Lookup(addr));
        Assert.Same(_model.FirstOrDefault(v => v.End > addr), _tree.FirstEndingAfter(addr));
        Assert.Same(_model.LastOrDefault(v => v.Start < addr), _tree.LastStartingBefore(addr));
    }

    void CompareNeighbours(Vma vma)
    {
        int i = _model.IndexOf(vma);
        Assert.Same(i > 0 ? _model[i - 1] : null, _tree.Prev(vma));
        Assert.Same(i + 1 < _model.Count ? _model[i + 1] : null, _tree.Next(vma));
    }

    void CompareIteration(ulong start, ulong end)
    {
        Assert.Equal(_model.Where(v => v.End > start && v.Start < end), _tree.Intersecting(start, end));
        Assert.Equal(_model.Where(v => v.End > start), _tree.From(start));
    }

    void CompareEmptyArea(ulong low, ulong high, ulong len, bool rev)
    {
        ulong? expected = NaiveEmptyArea(low, high, len, rev);
        ulong start;
        bool found = rev ? _tree.TryEmptyAreaRev(low, high, len, out start) : _tree.TryEmptyArea(low, high, len, out start);
        Assert.Equal(expected, found ? start : null);
    }

    // The highest (or lowest) page-aligned a in [low, high - len] with [a, a + len) free.
    ulong? NaiveEmptyArea(ulong low, ulong high, ulong len, bool rev)
    {
        if (high < low || high - low < len) return null;
        if (len == 0) return rev ? high : low;
        var candidates = new List<ulong>();
        for (ulong a = low; a + len <= high; a += Page)
            if (!_model.Any(v => v.Start < a + len && a < v.End)) candidates.Add(a);
        return candidates.Count == 0 ? null : rev ? candidates[^1] : candidates[0];
    }

    // mmap(NULL): the tree's top-down search against the simulator's former linear walk, then the VMA goes in.
    void PlaceTopDown(ulong len, ulong mmapBase)
    {
        long expected = LinearUnmappedAreaTopdown(len, mmapBase);
        long got = _tree.TryEmptyAreaRev(Base, mmapBase, len, out ulong start) ? (long)start : -12;
        Assert.Equal(expected, got);
        if (got >= 0) InsertAt(start, len);
    }

    // unmapped_area_topdown() as the simulator computed it on a sorted list before the tree.
    long LinearUnmappedAreaTopdown(ulong len, ulong top)
    {
        for (int i = _model.Count - 1; ; i--)
        {
            if (i >= 0 && _model[i].Start >= top) continue;
            ulong gapStart = i >= 0 ? Math.Min(_model[i].End, top) : Base;
            if (top - gapStart >= len) return (long)(top - len);
            if (i < 0) return -12;
            top = _model[i].Start;
        }
    }

    void CompareStructure()
    {
        Assert.Empty(_tree.Validate());
        Assert.Equal(_model.Count, _tree.Count);
        Assert.Equal(_model, _tree);
        Assert.Same(_model.FirstOrDefault(), _tree.First);
        Assert.Same(_model.LastOrDefault(), _tree.Last);
    }
}
