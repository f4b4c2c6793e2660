using MthpSim.Core.Folio;
using MthpSim.Core.Stats;

namespace MthpSim.Core;

// The page cache of files outside the scenario (age pagecache): clean, so reclaim frees it without I/O.
public sealed partial class Kernel
{
    long _fileCacheCursor;

    /// <summary>
    /// models shrink_folio_list() for clean, unmapped file folios: up to NR pages are freed at once,
    /// in page frame order from where the last pass stopped (the model keeps no LRU order for them).
    /// Returns the pages freed.
    /// </summary>
    internal long DropFileCache(long nr)
    {
        long freed = 0, frontier = Buddy.Frontier;
        for (long scanned = 0; scanned < frontier && freed < nr && NrFileCachePages > 0; scanned++)
        {
            if (_fileCacheCursor >= frontier) _fileCacheCursor = 0;
            int pfn = (int)_fileCacheCursor++;
            if (Map.Kind(pfn) != PageKind.FileCache) continue;
            Map.ReleaseFolio(pfn);
            Buddy.Free(pfn, 0);
            NrFileCachePages--;
            freed++;
        }
        if (Lru != null) { Stats.Count(VmEvent.PgscanFile, freed); Stats.Count(VmEvent.PgstealFile, freed); }
        return freed;
    }
}
