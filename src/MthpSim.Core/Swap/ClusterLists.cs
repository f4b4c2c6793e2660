namespace MthpSim.Core.Swap;

/// <summary>
/// The swap cluster lists of a device (free, full, and per order nonfull and frag), as intrusive
/// doubly linked lists over cluster indexes: each cluster is on at most one list (ci->flags says
/// which), and moves go to the tail as list_move_tail() does.
/// </summary>
sealed class ClusterLists
{
    public const int None = -1, Free = 0, Full = 1;
    readonly int _orders;
    readonly int[] _head, _tail, _prev, _nextInList, _list;

    public ClusterLists(int clusters, int orders)
    {
        _orders = orders;
        int lists = 2 + 2 * orders;
        _head = new int[lists];
        _tail = new int[lists];
        Array.Fill(_head, -1);
        Array.Fill(_tail, -1);
        _prev = new int[clusters];
        _nextInList = new int[clusters];
        _list = new int[clusters];
        Array.Fill(_list, None);
    }

    public static int Nonfull(int order) => 2 + order;
    public int Frag(int order) => 2 + _orders + order;

    public int ListOf(int ci) => _list[ci];
    public int First(int list) => _head[list];

    /// <summary>Takes the cluster off its list (isolate_lock_cluster(): flags NONE).</summary>
    public void Isolate(int ci)
    {
        int l = _list[ci];
        if (l == None) return;
        int p = _prev[ci], n = _nextInList[ci];
        if (p >= 0) _nextInList[p] = n; else _head[l] = n;
        if (n >= 0) _prev[n] = p; else _tail[l] = p;
        _list[ci] = None;
    }

    /// <summary>models move_cluster(): to the tail of <paramref name="list"/>.</summary>
    public void MoveTail(int ci, int list)
    {
        Isolate(ci);
        _list[ci] = list;
        _prev[ci] = _tail[list];
        _nextInList[ci] = -1;
        if (_tail[list] >= 0) _nextInList[_tail[list]] = ci; else _head[list] = ci;
        _tail[list] = ci;
    }
}
