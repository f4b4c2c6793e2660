namespace MthpSim.Core.Shmem;

/// <summary>
/// models the xa_nodes of a mapping's i_pages, for their memcg charge (XA_FLAGS_ACCOUNT). A node has
/// 64 slots; an entry of order o sits in the node of shift 6 * (o / 6), in 2^(o % 6) slots. Which
/// nodes exist follows from the entries alone: a node is made where an entry below it needs one
/// (xas_create()), and freed when its last slot empties (xas_delete_node()); the root is as high as
/// the entries need (xas_expand(), xas_shrink()). So the counts are kept for every level as if the
/// tree always had its full height, and the nodes at the root's level and below are the real ones.
/// A node that becomes real is charged to the group of the task that stores, one that stops being
/// real is uncharged from the group it was charged to; both when the operation settles
/// (<see cref="Settle"/>), so that an entry replaced in place (swap-in) frees and makes nothing.
/// </summary>
public sealed class XaNodes
{
    /// <summary>XA_CHUNK_SHIFT</summary>
    public const int ChunkShift = 6;
    /// <summary>Levels kept: 64^11 indexes is past any file's.</summary>
    const int Levels = 11;

    internal sealed class Node(int level, long key)
    {
        public readonly int Level = level;
        public readonly long Key = key;
        /// <summary>Indexes under the node held by entries stored in its own slots.</summary>
        public long Direct;
        /// <summary>Child nodes that exist.</summary>
        public int Children;
        /// <summary>Allocated: at or below the root's level when the last operation settled.</summary>
        public bool Real;
        /// <summary>The group it was charged to (0: none, or not yet).</summary>
        public ushort Memcg;
        /// <summary>Emptied since the last settle while real: freed then, unless refilled.</summary>
        public bool Dying;
        public bool Exists => Direct > 0 || Children > 0;
    }

    readonly Dictionary<long, Node>[] _levels = Enumerable.Range(0, Levels).Select(_ => new Dictionary<long, Node>()).ToArray();
    readonly List<Node> _born = new(), _dying = new();
    int _root = -1;
    /// <summary>The last index covered as of the last settle, or higher since (-1: none).</summary>
    long _max = -1;
    /// <summary>Set by a change that may move the root: an entry past the root's reach, the last one gone, one at index 0.</summary>
    bool _rootMayMove;

    /// <summary>Nodes allocated (real) as of the last settle.</summary>
    public int Count { get; private set; }

    /// <summary>Whether changes since the last settle wait to be charged or freed, or may have moved the root.</summary>
    public bool Unsettled => _born.Count > 0 || _dying.Count > 0 || _rootMayMove;

    // The node changed last: a run of indexes mostly stays in one.
    int _lastLevel = -1;
    long _lastKey;
    Node? _last;

    /// <summary>The root's level when entries cover up to index <paramref name="max"/> (-1: none).</summary>
    public static int RootLevel(long max)
    {
        int root = -1;
        if (max > 0)
            for (root = 0; (max >> (ChunkShift * (root + 1))) != 0; root++) { }
        return root;
    }

    /// <summary>The level an entry of <paramref name="order"/> is stored at.</summary>
    public static int LevelOf(int order) => order / ChunkShift;

    /// <summary>
    /// <paramref name="n"/> indexes from <paramref name="index"/> change from entries of order
    /// <paramref name="oldOrder"/> to entries of <paramref name="newOrder"/> (-1: none).
    /// </summary>
    public void Change(long index, long n, int oldOrder, int newOrder)
    {
        int lo = oldOrder < 0 ? -1 : LevelOf(oldOrder), ln = newOrder < 0 ? -1 : LevelOf(newOrder);
        long last = index + n - 1;
        if (index == 0 && oldOrder != newOrder) _rootMayMove = true;   // xas_max() counts index 0's order
        if (lo == ln) return;
        if (lo < 0)
        {
            // entries where there were none move the root only past its reach
            if (_root < 0 || index == 0 || (last >> (ChunkShift * (_root + 1))) != 0) _rootMayMove = true;
            _max = Math.Max(_max, last);
        }
        else if (ln < 0 && last >= _max) _rootMayMove = true;   // the last one gone
        if (lo >= 0) AddDirectRun(lo, index, n, -1);
        if (ln >= 0) AddDirectRun(ln, index, n, 1);
    }

    /// <summary>The indexes [index, index + n) count <paramref name="sign"/> each in the nodes of <paramref name="level"/> holding them.</summary>
    void AddDirectRun(int level, long index, long n, int sign)
    {
        int shift = ChunkShift * (level + 1);
        for (long end = index + n; index < end;)
        {
            long next = Math.Min(end, ((index >> shift) + 1) << shift);
            AddDirect(level, index >> shift, sign * (next - index));
            index = next;
        }
    }

    void AddDirect(int level, long key, long delta)
    {
        if (level != _lastLevel || key != _lastKey || _last == null)
        {
            if (!_levels[level].TryGetValue(key, out _last)) _levels[level].Add(key, _last = new Node(level, key));
            (_lastLevel, _lastKey) = (level, key);
        }
        var n = _last;
        bool was = n.Exists;
        n.Direct += delta;
        if (was != n.Exists) Toggled(level, key, n);
    }

    /// <summary>A node's existence changed: its parent's count of children follows.</summary>
    void Toggled(int level, long key, Node n)
    {
        while (true)
        {
            if (n.Exists)
            {
                if (n.Dying) n.Dying = false;   // emptied and refilled in one operation: never freed
                else if (!n.Real) _born.Add(n);
            }
            else if (n.Real)
            {
                n.Dying = true;
                _dying.Add(n);
            }
            else Forget(level, key);
            if (level + 1 == Levels) return;
            int delta = n.Exists ? 1 : -1;
            level++;
            key >>= ChunkShift;
            if (!_levels[level].TryGetValue(key, out var parent)) _levels[level].Add(key, parent = new Node(level, key));
            bool was = parent.Exists;
            parent.Children += delta;
            if (was == parent.Exists) return;
            n = parent;
        }
    }

    void Forget(int level, long key)
    {
        _levels[level].Remove(key);
        if (level == _lastLevel && key == _lastKey) _last = null;
    }

    /// <summary>
    /// Settles the changes, the last index any entry covers now being <paramref name="max"/> (-1:
    /// none; an entry at index 0 counts as covering 2^order, xas_max()). The root is the lowest level
    /// whose node covers more than that: none when it is 0 (the head holds a lone order-0 entry at 0).
    /// Returns the nodes that became real, to be charged (<see cref="Node.Memcg"/>) unless they stopped
    /// being real meanwhile, and the groups of the nodes freed: charge first, the kernel frees a node
    /// only after an RCU grace period. The structure is settled before, since a charge may reclaim and
    /// so change this page cache again.
    /// </summary>
    internal void Settle(long max, out List<Node>? made, out List<ushort>? freed)
    {
        int root = RootLevel(max);
        made = null;
        freed = null;
        foreach (var n in _born)
            if (n.Exists && !n.Real && n.Level <= root) MakeReal(n, ref made);
        for (int level = _root + 1; level <= root; level++)
            foreach (var n in _levels[level].Values)
                if (n.Exists && !n.Real) MakeReal(n, ref made);
        foreach (var n in _dying)
        {
            if (!n.Dying) continue;
            n.Dying = false;
            Unreal(n, ref freed);
            Forget(n.Level, n.Key);
        }
        for (int level = root + 1; level <= _root; level++)
            foreach (var n in _levels[level].Values)
                if (n.Real) Unreal(n, ref freed);
        _born.Clear();
        _dying.Clear();
        _root = root;
        _max = max;
        _rootMayMove = false;
    }

    void MakeReal(Node n, ref List<Node>? made)
    {
        n.Real = true;
        n.Memcg = 0;
        Count++;
        (made ??= new()).Add(n);
    }

    void Unreal(Node n, ref List<ushort>? freed)
    {
        n.Real = false;
        if (n.Memcg != 0) (freed ??= new()).Add(n.Memcg);
        n.Memcg = 0;
        Count--;
    }
}
