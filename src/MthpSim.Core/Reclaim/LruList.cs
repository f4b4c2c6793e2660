namespace MthpSim.Core.Reclaim;

/// <summary>enum lru_list without the unevictable list: the lists reclaim scans, in for_each_evictable_lru() order.</summary>
public enum LruList : byte
{
    InactiveAnon,
    ActiveAnon,
    InactiveFile,
    ActiveFile,
}

public static class LruLists
{
    public const int Count = 4;
    public static bool IsActive(LruList l) => l is LruList.ActiveAnon or LruList.ActiveFile;
    public static bool IsFile(LruList l) => l is LruList.InactiveFile or LruList.ActiveFile;
    public static LruList Of(bool file, bool active) => (LruList)((file ? 2 : 0) + (active ? 1 : 0));
}
