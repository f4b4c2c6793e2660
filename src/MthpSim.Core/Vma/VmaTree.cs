using System.Collections;

namespace MthpSim.Core.Vma;

/// <summary>
/// The VMAs of an address space in address order (the role of mm->mm_mt, the maple tree): a relaxed
/// AVL tree (Sen and Tarjan, "Deletion without rebalancing in binary search trees", 2016) keyed by
/// Start whose nodes are the VMAs themselves. Insertion rebalances by ranks as AVL insertion does;
/// removal does not rebalance at all (ranks only ever keep every child below its parent), and the
/// height stays within log_φ of the number of insertions. Each VMA records the gap between it and
/// the VMA before it, and each subtree the largest such gap (as the rbtree's rb_subtree_gap did before
/// the maple tree), so that lookup, insert, remove, a range change and the free-area searches of
/// get_unmapped_area() all take O(log n) in the number of VMAs. A change touches the gaps of the VMA
/// and of the one after it only, so the summaries above stop changing soon: adding or removing the
/// lowest VMA (top-down placement) does not walk to the root.
/// </summary>
/// <remarks>
/// VMAs never overlap, so ordering by Start orders them by End as well. Enumeration is in address
/// order and, like List&lt;T&gt;, fails if the tree changes underneath it.
/// </remarks>
public sealed class VmaTree : IReadOnlyCollection<Vma>
{
    Vma? _root;
    // The lowest and highest VMAs: top-down placement adds and asks for the lowest all the time.
    Vma? _first, _last;
    int _count;
    int _version;
    /// <summary>Insertions ever made: the rank of the root stays within log_φ of it.</summary>
    long _inserts;
    // The last two VMAs a lookup found (the per-thread vmacache of kernels before the maple tree).
    // One operation looks up the same addresses several times; VMAs never overlap, so a VMA still in
    // this tree that contains addr is the answer, whatever changed since: no invalidation needed.
    Vma? _recent0, _recent1;

    public int Count => _count;

    /// <summary>The lowest VMA, or null.</summary>
    public Vma? First => _first;
    /// <summary>The highest VMA, or null.</summary>
    public Vma? Last => _last;

    /// <summary>Whether <paramref name="vma"/> is in this tree (O(1)).</summary>
    public bool Contains(Vma vma) => vma.Tree == this;

    // models vma_lookup(): the VMA containing addr, or null
    public Vma? Lookup(ulong addr)
    {
        if (Recent(addr) is { } hit) return hit;
        if (AtEnds(addr) is { } end) return end.Contains(addr) ? end : null;
        var n = _root;
        while (n != null)
        {
            if (addr < n.Start) n = n.Left;
            else if (addr >= n.End) n = n.Right;
            else return Remember(n);
        }
        return null;
    }

    // models find_vma(): the first VMA whose End is above addr, or null
    public Vma? FirstEndingAfter(ulong addr)
    {
        if (Recent(addr) is { } hit) return hit;
        if (AtEnds(addr) is { } end) return end.End > addr ? end : null;
        Vma? found = null;
        for (var n = _root; n != null;)
        {
            if (n.End <= addr) n = n.Right;
            else if (n.Start <= addr) return Remember(n);   // contains addr: every VMA before it ends at or below addr
            else { found = n; n = n.Left; }
        }
        return found;
    }

    // The lowest VMA when addr lies below its end, the highest when addr lies at or above its start:
    // each answers a lookup there without a descent (top-down placement maps and unmaps at the low end).
    Vma? AtEnds(ulong addr)
    {
        if (_first is { } first && addr < first.End) return first;
        if (_last is { } last && addr >= last.Start) return last;
        return null;
    }

    // models vmacache_find(): a recently found VMA of this tree that contains addr
    Vma? Recent(ulong addr)
    {
        if (_recent0 is { } a && a.Tree == this && addr >= a.Start && addr < a.End) return a;
        if (_recent1 is { } b && b.Tree == this && addr >= b.Start && addr < b.End) return b;
        return null;
    }

    Vma Remember(Vma vma)
    {
        if (vma != _recent0) (_recent0, _recent1) = (vma, _recent0);
        return vma;
    }

    // models find_vma_prev()'s prev / mas_prev(): the last VMA starting below addr, or null
    public Vma? LastStartingBefore(ulong addr)
    {
        // The highest VMA, when it starts below addr, without a descent (top-down placement asks with mmap_base above every VMA)
        if (_last is { } last && last.Start < addr) return last;
        Vma? found = null;
        for (var n = _root; n != null;)
        {
            if (n.Start < addr) { found = n; n = n.Right; }
            else n = n.Left;
        }
        return found;
    }

    // models vma_next(): the VMA after vma in address order
    public Vma? Next(Vma vma)
    {
        RequireMember(vma);
        return vma.VmNext;
    }

    // models vma_prev(): the VMA before vma in address order
    public Vma? Prev(Vma vma)
    {
        RequireMember(vma);
        return vma.VmPrev;
    }

    /// <summary>The VMAs ending above addr, in address order (for_each_vma() from a VMA_ITERATOR at addr).</summary>
    public IEnumerable<Vma> From(ulong addr)
    {
        int version = _version;
        for (var v = FirstEndingAfter(addr); v != null; v = Next(v))
        {
            yield return v;
            if (version != _version) throw new InvalidOperationException("the VMA tree changed during enumeration");
        }
    }

    /// <summary>Whether any VMA intersects [start, end): one descent, nothing allocated.</summary>
    public bool AnyIntersecting(ulong start, ulong end) => FirstEndingAfter(start) is { } v && v.Start < end;

    /// <summary>The VMAs intersecting [start, end), in address order (for_each_vma_range()).</summary>
    public IEnumerable<Vma> Intersecting(ulong start, ulong end)
    {
        int version = _version;
        for (var v = FirstEndingAfter(start); v != null && v.Start < end; v = Next(v))
        {
            yield return v;
            if (version != _version) throw new InvalidOperationException("the VMA tree changed during enumeration");
            if (v.End >= end) yield break;   // the next VMA starts at or above end: no walk to it
        }
    }

    public IEnumerator<Vma> GetEnumerator() => From(0).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // models vma_iter_store() of a new VMA (vma_link()): the range must be free
    public void Insert(Vma vma)
    {
        if (vma.Tree != null) throw new InvalidOperationException($"VMA {vma} is already in a tree");
        Vma? parent = null, before = null, after = null;
        bool left = false;
        // Below the lowest VMA or above the highest (top-down placement's usual case), the new VMA
        // hangs from that end, which has no child on that side: no descent.
        if (_first != null && vma.Start < _first.Start) (parent, left, after) = (_first, true, _first);
        else if (_last != null && vma.Start >= _last.Start) (parent, left, before) = (_last, false, _last);
        else
        {
            for (var n = _root; n != null;)
            {
                parent = n;
                left = vma.Start < n.Start;
                if (left) { after = n; n = n.Left; }
                else { before = n; n = n.Right; }
            }
        }
        // The last turns of the descent are the new VMA's neighbours: checking them costs no walk.
        if ((before != null && before.End > vma.Start) || (after != null && vma.End > after.Start))
            throw new InvalidOperationException($"VMA {vma} overlaps {(before != null && before.End > vma.Start ? before : after)}");
        vma.Tree = this;
        vma.Parent = parent;
        vma.Left = vma.Right = null;
        (vma.VmPrev, vma.VmNext) = (before, after);
        if (before != null) before.VmNext = vma;
        if (after != null) after.VmPrev = vma;
        if (parent == null) _root = vma;
        else if (left) parent.Left = vma;
        else parent.Right = vma;
        _count++;
        _inserts++;
        _version++;
        // A new leaf's neighbours are the last turns of its descent: both are its ancestors.
        if (before == null) _first = vma;
        if (after == null) _last = vma;
        vma.Rank = 0;
        vma.GapBefore = before != null ? Gap(before.End, vma.Start) : 0;
        vma.SubtreeMaxGap = vma.GapBefore;
        // The summaries first (a rotation keeps the summary of the subtree it turns), then the ranks.
        // A new leaf can only raise the largest gaps above it: no sibling is read.
        for (var a = parent; a != null && a.SubtreeMaxGap < vma.GapBefore; a = a.Parent) a.SubtreeMaxGap = vma.GapBefore;
        RebalanceInsert(vma);
        if (after != null) SetGapBefore(after, Gap(vma.End, after.Start));
    }

    // models vma_iter_clear() of a VMA's range (vma_complete() removing it)
    public void Remove(Vma vma)
    {
        RequireMember(vma);
        var (pred, next) = (vma.VmPrev, vma.VmNext);
        Vma? fixFrom;
        if (vma.Left != null && vma.Right != null)
        {
            // Put the successor (the leftmost of the right subtree: the next VMA) in vma's place.
            var succ = next!;
            if (succ.Parent == vma) fixFrom = succ;
            else
            {
                fixFrom = succ.Parent;
                Transplant(succ, succ.Right);
                succ.Right = vma.Right;
                succ.Right.Parent = succ;
            }
            Transplant(vma, succ);
            succ.Left = vma.Left;
            succ.Left.Parent = succ;
            // succ now stands for vma's subtree: give it vma's rank, and vma's summary, so that the walk up compares against what the ancestors saw.
            (succ.Rank, succ.SubtreeMaxGap) = (vma.Rank, vma.SubtreeMaxGap);
        }
        else
        {
            fixFrom = vma.Parent;
            Transplant(vma, vma.Left ?? vma.Right);
        }
        if (vma == _first) _first = next;
        if (vma == _last) _last = pred;
        if (pred != null) pred.VmNext = next;
        if (next != null) next.VmPrev = pred;
        vma.Unlink();
        _count--;
        _version++;
        // No rebalancing: every rank difference stays positive. A node left without children becomes
        // a leaf of rank 0.
        if (fixFrom is { Left: null, Right: null }) fixFrom.Rank = 0;
        for (var a = fixFrom; a != null && Update(a); a = a.Parent) { }
        // The VMA after it now follows the one before it.
        if (next != null) SetGapBefore(next, pred != null ? Gap(pred.End, next.Start) : 0);
    }

    // models vma_set_range() + vma_iter_store(): the VMA's new range must stay between its neighbours
    public void SetRange(Vma vma, ulong start, ulong end)
    {
        RequireMember(vma);
        if (start > end) throw new ArgumentException($"range {start:x}-{end:x} is reversed");
        // Only a side that grows can reach a neighbour.
        if ((start < vma.Start && Prev(vma) is { } prev && prev.End > start) ||
            (end > vma.End && Next(vma) is { } next && end > next.Start))
            throw new InvalidOperationException($"VMA {vma} cannot become {start:x}-{end:x}: it would overlap a neighbour");
        vma.StoreRange(start, end);
        _version++;
        RefreshGaps(vma);
    }

    // models commit_merge(): vma grows over an adjacent VMA, which leaves the tree
    public void Absorb(Vma vma, Vma neighbour)
    {
        RequireMember(vma);
        RequireMember(neighbour);
        // Adjacent ranges need no neighbour walk: nothing else can lie in the merged range.
        ulong start, end;
        if (neighbour.Start == vma.End && neighbour.Start < neighbour.End) (start, end) = (vma.Start, neighbour.End);
        else if (neighbour.End == vma.Start && neighbour.Start < neighbour.End) (start, end) = (neighbour.Start, vma.End);
        else throw new InvalidOperationException($"VMA {neighbour} is not adjacent to {vma}");
        Remove(neighbour);
        vma.StoreRange(start, end);
        _version++;
        RefreshGaps(vma);
    }

    // After vma's range changed: its own gap and the next VMA's (heights stay; each walk up stops where the summary does).
    void RefreshGaps(Vma vma)
    {
        var prev = Prev(vma);
        SetGapBefore(vma, prev != null ? Gap(prev.End, vma.Start) : 0);
        if (Next(vma) is { } next) SetGapBefore(next, Gap(vma.End, next.Start));
    }

    // Gives n the gap below it and fixes the subtree maxima above it, as far as they change.
    static void SetGapBefore(Vma n, ulong gap)
    {
        if (n.GapBefore == gap) return;
        n.GapBefore = gap;
        for (var a = n; a != null && Update(a); a = a.Parent) { }
    }

    /// <summary>
    /// models mas_empty_area_rev(): the highest address a with [a, a + len) free and inside [low, high),
    /// found as the highest gap that holds len.
    /// </summary>
    public bool TryEmptyAreaRev(ulong low, ulong high, ulong len, out ulong start)
    {
        start = 0;
        if (high < low || high - low < len) return false;
        if (len == 0) { start = high; return true; }
        var top = LastStartingBefore(high);
        if (top == null) { start = high - len; return true; }
        // The gap above the last VMA starting below high, cut at high.
        ulong topGapStart = Math.Max(top.End, low);
        if (topGapStart < high && high - topGapStart >= len) { start = high - len; return true; }
        if (HighestGapEndingBy(_root, top.Start, len) is var (gs, ge))
        {
            // Gaps above it are too small; those below it lie lower still, so low decides here.
            if (ge <= low || ge - Math.Max(gs, low) < len) return false;
            start = ge - len;
            return true;
        }
        // The gap below the first VMA.
        ulong first = _first!.Start;
        if (first > low && first - low >= len) { start = first - len; return true; }
        return false;
    }

    /// <summary>
    /// models mas_empty_area(): the lowest address a with [a, a + len) free and inside [low, high),
    /// found as the lowest gap that holds len.
    /// </summary>
    public bool TryEmptyArea(ulong low, ulong high, ulong len, out ulong start)
    {
        start = 0;
        if (high < low || high - low < len) return false;
        if (len == 0) { start = low; return true; }
        var bottom = FirstEndingAfter(low);
        if (bottom == null) { start = low; return true; }
        // The gap below the first VMA ending above low, cut at low.
        ulong bottomGapEnd = Math.Min(bottom.Start, high);
        if (bottomGapEnd > low && bottomGapEnd - low >= len) { start = low; return true; }
        if (LowestGapStartingFrom(_root, bottom.End, len) is var (gs, ge))
        {
            if (gs >= high || Math.Min(ge, high) - gs < len) return false;
            start = gs;
            return true;
        }
        // The gap above the last VMA.
        ulong last = _last!.End;
        if (last < high && high - Math.Max(last, low) >= len) { start = Math.Max(last, low); return true; }
        return false;
    }

    /// <summary>
    /// Verifies links, order, AVL balance and every subtree's augmentation; returns what is wrong.
    /// O(n): for the invariant checker and tests only.
    /// </summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (_root != null && _root.Parent != null) errors.Add("the root has a parent");
        int seen = 0;
        Vma? prev = null;
        ValidateSubtree(_root, errors, ref seen, ref prev);
        if (seen != _count) errors.Add($"the tree holds {seen} VMAs but counts {_count}");
        // ranks fall along every path, so this also bounds the height
        if (_root != null && _root.Rank > LogPhi * Math.Log2(_inserts) + 1)
            errors.Add($"the root's rank {_root.Rank} is above log_φ of the {_inserts} insertions");
        if (_first != (_root == null ? null : Leftmost(_root)) || _last != (_root == null ? null : Rightmost(_root)))
            errors.Add($"the lowest and highest VMAs kept ({_first}, {_last}) are not the tree's");
        return errors;
    }

    void ValidateSubtree(Vma? n, List<string> errors, ref int seen, ref Vma? prev)
    {
        if (n == null) return;
        if (n.Tree != this) errors.Add($"VMA {n} is linked but belongs to another tree");
        if (n.Left != null && n.Left.Parent != n) errors.Add($"VMA {n.Left}: wrong parent");
        if (n.Right != null && n.Right.Parent != n) errors.Add($"VMA {n.Right}: wrong parent");
        ValidateSubtree(n.Left, errors, ref seen, ref prev);
        seen++;
        if (n.Start >= n.End) errors.Add($"VMA {n} is empty or reversed");
        if (prev != null && prev.End > n.Start) errors.Add($"VMAs {prev} and {n} overlap or are out of order");
        if (n.VmPrev != prev || (prev != null && prev.VmNext != n) || (prev == null && n != _first))
            errors.Add($"VMA {n}: its links to the VMA before it ({n.VmPrev}) do not match the tree's order ({prev})");
        if (n.VmNext == null && n != _last) errors.Add($"VMA {n}: no VMA after it, but it is not the highest");
        ulong gapBefore = prev != null ? Gap(prev.End, n.Start) : 0;
        if (n.GapBefore != gapBefore) errors.Add($"VMA {n}: stale gap below it ({n.GapBefore:x}, should be {gapBefore:x})");
        prev = n;
        ValidateSubtree(n.Right, errors, ref seen, ref prev);
        if (n.Rank - RankOf(n.Left) < 1 || n.Rank - RankOf(n.Right) < 1)
            errors.Add($"VMA {n}: rank {n.Rank} is not above its children's ({RankOf(n.Left)}, {RankOf(n.Right)})");
        if (n.Left == null && n.Right == null && n.Rank != 0) errors.Add($"VMA {n}: a leaf of rank {n.Rank}");
        ulong gap = Summarize(n);
        if (n.SubtreeMaxGap != gap) errors.Add($"VMA {n}: stale augmentation (gap {n.SubtreeMaxGap:x}/{gap:x})");
    }

    // A gap is named by the VMA above it: [n.Start - n.GapBefore, n.Start).
    static (ulong Start, ulong End)? GapBelow(Vma? n) => n == null ? null : (n.Start - n.GapBefore, n.Start);

    // The highest gap between consecutive VMAs that ends at or below bound and holds len: the last
    // VMA starting at or below bound whose gap below holds len.
    static (ulong Start, ulong End)? HighestGapEndingBy(Vma? n, ulong bound, ulong len) => GapBelow(LastWithGapAtOrBelow(n, bound, len));

    static Vma? LastWithGapAtOrBelow(Vma? n, ulong bound, ulong len)
    {
        while (n != null && n.SubtreeMaxGap >= len)
        {
            if (n.Start > bound) { n = n.Left; continue; }
            // n qualifies by its start, and so does everything left of it: the right side first.
            if (LastWithGapAtOrBelow(n.Right, bound, len) is { } inRight) return inRight;
            if (n.GapBefore >= len) return n;
            return LastWithGap(n.Left, len);
        }
        return null;
    }

    // The last VMA of the subtree whose gap below holds len; the maxima steer the descent.
    static Vma? LastWithGap(Vma? n, ulong len)
    {
        while (n != null && n.SubtreeMaxGap >= len)
        {
            if (n.Right != null && n.Right.SubtreeMaxGap >= len) { n = n.Right; continue; }
            if (n.GapBefore >= len) return n;
            n = n.Left;
        }
        return null;
    }

    // The lowest gap between consecutive VMAs that starts at or above bound and holds len.
    static (ulong Start, ulong End)? LowestGapStartingFrom(Vma? n, ulong bound, ulong len) => GapBelow(FirstWithGapFrom(n, bound, len));

    static Vma? FirstWithGapFrom(Vma? n, ulong bound, ulong len)
    {
        while (n != null && n.SubtreeMaxGap >= len)
        {
            // A gap below n starts below n's start: VMAs starting below bound have gaps starting below it.
            if (n.Start < bound) { n = n.Right; continue; }
            if (FirstWithGapFrom(n.Left, bound, len) is { } inLeft) return inLeft;
            if (n.GapBefore >= len && n.Start - n.GapBefore >= bound) return n;
            // Every gap right of n starts at or above n's end, which is above bound.
            return FirstWithGap(n.Right, len);
        }
        return null;
    }

    // The first VMA of the subtree whose gap below holds len.
    static Vma? FirstWithGap(Vma? n, ulong len)
    {
        while (n != null && n.SubtreeMaxGap >= len)
        {
            if (n.Left != null && n.Left.SubtreeMaxGap >= len) { n = n.Left; continue; }
            if (n.GapBefore >= len) return n;
            n = n.Right;
        }
        return null;
    }

    // Saturating: a stale or overlapping pair reads as no gap instead of a huge one.
    static ulong Gap(ulong from, ulong to) => to > from ? to - from : 0;

    /// <summary>1 / log2(φ): a rank above this times log2 of the insertions would break the bound.</summary>
    const double LogPhi = 1.4404200904125564;

    static int RankOf(Vma? n) => n?.Rank ?? -1;

    static ulong Summarize(Vma n)
    {
        ulong gap = n.GapBefore;
        if (n.Left is { } l) gap = Math.Max(gap, l.SubtreeMaxGap);
        if (n.Right is { } r) gap = Math.Max(gap, r.SubtreeMaxGap);
        return gap;
    }

    // Recomputes n's summary from its gap and its children's; false when it did not change.
    static bool Update(Vma n)
    {
        ulong gap = Summarize(n);
        if (gap == n.SubtreeMaxGap) return false;
        n.SubtreeMaxGap = gap;
        return true;
    }

    // AVL insertion by ranks: while the new leaf's path has a child as high as its parent, the parent
    // is promoted if its other child is one rank below it, and otherwise a single or double rotation
    // ends it. The rotations keep the summaries right (they must be right before).
    void RebalanceInsert(Vma x)
    {
        for (var p = x.Parent; p != null && p.Rank == x.Rank; p = x.Parent)
        {
            bool left = p.Left == x;
            var sibling = left ? p.Right : p.Left;
            if (p.Rank - RankOf(sibling) == 1)
            {
                p.Rank++;
                x = p;
                continue;
            }
            var outer = left ? x.Left : x.Right;
            if (x.Rank - RankOf(outer) == 1)
            {
                if (left) RotateRight(p); else RotateLeft(p);
                Demote(p);
            }
            else
            {
                var inner = (left ? x.Right : x.Left)!;
                if (left) { RotateLeft(x); RotateRight(p); }
                else { RotateRight(x); RotateLeft(p); }
                inner.Rank++;
                Demote(x);
                Demote(p);
            }
            return;
        }
    }

    // One rank down, or to 0 for a node the rotation left without children (leaves have rank 0; a
    // lower rank only widens the node's own rank difference).
    static void Demote(Vma n) => n.Rank = n.Left == null && n.Right == null ? 0 : n.Rank - 1;

    Vma RotateLeft(Vma x)
    {
        var y = x.Right!;
        x.Right = y.Left;
        if (y.Left != null) y.Left.Parent = x;
        Transplant(x, y);
        y.Left = x;
        x.Parent = y;
        // y now roots what x rooted: the same VMAs, the same largest gap
        y.SubtreeMaxGap = x.SubtreeMaxGap;
        x.SubtreeMaxGap = Summarize(x);
        return y;
    }

    Vma RotateRight(Vma x)
    {
        var y = x.Left!;
        x.Left = y.Right;
        if (y.Right != null) y.Right.Parent = x;
        Transplant(x, y);
        y.Right = x;
        x.Parent = y;
        // y now roots what x rooted: the same VMAs, the same largest gap
        y.SubtreeMaxGap = x.SubtreeMaxGap;
        x.SubtreeMaxGap = Summarize(x);
        return y;
    }

    // Puts v where u hangs from u's parent (or the root); u's own links are left alone.
    void Transplant(Vma u, Vma? v)
    {
        if (u.Parent == null) _root = v;
        else if (u.Parent.Left == u) u.Parent.Left = v;
        else u.Parent.Right = v;
        if (v != null) v.Parent = u.Parent;
    }

    static Vma Leftmost(Vma n)
    {
        while (n.Left != null) n = n.Left;
        return n;
    }

    static Vma Rightmost(Vma n)
    {
        while (n.Right != null) n = n.Right;
        return n;
    }

    void RequireMember(Vma vma)
    {
        if (vma.Tree != this) throw new InvalidOperationException($"VMA {vma} is not in this tree");
    }
}
