using MthpSim.Core.PageAlloc;
using MthpSim.Core;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Stats;
using MthpSim.Core.Vma;

namespace MthpSim.Tests.Core;

/// <summary>
/// The invariant checker as it was before it was made fast (dictionaries, a walk of every VMA page
/// through the probes): slow but plainly right, so the fast checker must report exactly what it
/// reports. Test-only; keep it as it is.
/// </summary>
public static class ReferenceInvariantChecker
{
    /// <summary>All violations found (empty when the machine is consistent).</summary>
    public static List<string> Check(Kernel k, bool checkContents = true)
    {
        var errors = new List<string>();
        var map = k.Map;
        var pteMaps = new Dictionary<int, int>();
        var pmdMaps = new Dictionary<int, int>();
        var perMm = new Dictionary<(int Head, int Mm), int>();
        long pageTablesSeen = 0;

        foreach (var mm in k.Processes)
        {
            long rss = 0;
            int pmdShift = k.Geo.PageShift + k.Geo.PmdOrder;
            foreach (var (first, pfn, pud) in mm.PageTables.UpperPages())
            {
                string what = pud ? "PUD" : "PMD";
                ulong from = (ulong)first << pmdShift, to = from + ((ulong)(pud ? mm.PageTables.PudPageSpan : mm.PageTables.PmdPageSpan) << pmdShift);
                if (pfn < 0 || pfn >= map.Capacity || map.Kind(pfn) != PageKind.PageTable)
                    errors.Add($"{mm.Name}: the {what} page at {from:x} is frame {pfn:x}, which is not a page table");
                else pageTablesSeen++;
                if (!pud && mm.PageTables.PudLevel && !mm.PageTables.HasPudPage(first)) errors.Add($"{mm.Name}: the PMD page at {from:x} has no PUD page above it");
                if (!mm.Vmas.Any(v => v.Start < to && v.End > from)) errors.Add($"{mm.Name}: the {what} page at {from:x} outlived every VMA of its range");
            }
            foreach (var (index, slot) in mm.PageTables.Ordered())
            {
                ulong pmdBase = (ulong)index << pmdShift;
                if (!mm.PageTables.HasPmdPage(index)) errors.Add($"{mm.Name}: PMD at {pmdBase:x} has no PMD page above it");
                if (slot.Kind != PmdKind.None)
                {
                    if (slot.TablePfn < 0 || map.Kind(slot.TablePfn) != PageKind.PageTable)
                        errors.Add($"{mm.Name}: PMD at {pmdBase:x} has no page table page (deposited or in use)");
                    else pageTablesSeen++;
                }
                switch (slot.Kind)
                {
                    case PmdKind.Huge:
                    {
                        int head = Pte.Pfn(slot.Leaf);
                        if (map.Kind(head) != PageKind.Anon || map.Order(head) != k.Geo.PmdOrder || map.HeadOf(head) != head)
                            errors.Add($"{mm.Name}: PMD at {pmdBase:x} maps PFN {head:x} which is not the head of a live PMD-order anon or shmem folio");
                        pmdMaps[head] = pmdMaps.GetValueOrDefault(head) + 1;
                        perMm[(head, mm.Id)] = perMm.GetValueOrDefault((head, mm.Id)) + 1;
                        rss += 1L << k.Geo.PmdOrder;
                        CheckCovered(k, mm, pmdBase, pmdBase + (ulong)k.Geo.PmdSize, Pte.IsWrite(slot.Leaf), errors);
                        break;
                    }
                    case PmdKind.HugeZero:
                        if (Pte.Pfn(slot.Leaf) != k.HugeZeroPfn || Pte.IsWrite(slot.Leaf))
                            errors.Add($"{mm.Name}: huge zero PMD at {pmdBase:x} is wrong (pfn {Pte.Pfn(slot.Leaf):x}, writable {Pte.IsWrite(slot.Leaf)})");
                        CheckCovered(k, mm, pmdBase, pmdBase + (ulong)k.Geo.PmdSize, false, errors);
                        break;
                    case PmdKind.Table:
                        var ptes = slot.Ptes!;
                        for (int i = 0; i < ptes.Length; i++)
                        {
                            ulong pte = ptes[i];
                            if (pte == 0) continue;
                            ulong addr = pmdBase + ((ulong)i << k.Geo.PageShift);
                            var vma = mm.FindVma(addr);
                            if (vma == null) { errors.Add($"{mm.Name}: PTE at {addr:x} outside any VMA"); continue; }
                            if (Pte.IsWrite(pte) && ((vma.Flags & VmFlags.Write) == 0 || Pte.IsZero(pte)))
                                errors.Add($"{mm.Name}: PTE at {addr:x} is writable without permission");
                            if (!Pte.IsNormal(pte)) continue;
                            int pfn = Pte.Pfn(pte);
                            if (pfn >= map.Capacity || map.Kind(pfn) != PageKind.Anon)
                            {
                                errors.Add($"{mm.Name}: PTE at {addr:x} maps PFN {pfn:x} which is not part of a live anon folio");
                                continue;
                            }
                            pteMaps[pfn] = pteMaps.GetValueOrDefault(pfn) + 1;
                            int h = map.HeadOf(pfn);
                            perMm[(h, mm.Id)] = perMm.GetValueOrDefault((h, mm.Id)) + 1;
                            rss++;
                        }
                        break;
                }
            }
            if (rss != mm.Rss[(int)RssMember.AnonPages])
                errors.Add($"{mm.Name}: RSS anon counter {mm.Rss[(int)RssMember.AnonPages]} != {rss} pages mapped");
            if (checkContents)
                foreach (var vma in mm.Vmas)
                    if (k.FirstCorruptPage(mm, vma.Start, vma.End) is ulong bad)
                        errors.Add($"{mm.Name}: page at {bad:x} holds content {k.ContentAt(mm, bad)}, the program expects {k.ExpectedAt(mm, bad) & ~PmdSlot.MaybeZero}");
        }

        CheckFolios(k, pteMaps, pmdMaps, perMm, pageTablesSeen, errors);
        CheckBuddy(k, errors);
        return errors;
    }

    static void CheckCovered(Kernel k, MmStruct mm, ulong start, ulong end, bool writable, List<string> errors)
    {
        var vma = mm.FindVma(start);
        if (vma == null || vma.End < end)
            errors.Add($"{mm.Name}: PMD mapping at {start:x} is not inside one VMA");
        else if (writable && (vma.Flags & VmFlags.Write) == 0)
            errors.Add($"{mm.Name}: PMD mapping at {start:x} is writable without permission");
    }

    static void CheckFolios(Kernel k, Dictionary<int, int> pteMaps, Dictionary<int, int> pmdMaps,
        Dictionary<(int Head, int Mm), int> perMm, long pageTablesSeen, List<string> errors)
    {
        var map = k.Map;
        long anonMapped = 0, anonThps = 0, pageTables = 0, queued = 0, kernelPages = 0, pinnedPages = 0, fileCachePages = 0;
        var nrAnon = new long[k.Geo.PmdOrder + 1];
        var pinCounts = k.PinCounts();
        var nrPartial = new long[k.Geo.PmdOrder + 1];
        long frontier = k.Buddy.Frontier;
        for (int pfn = 0; pfn < frontier;)
        {
            var kind = map.Kind(pfn);
            if (kind is PageKind.FreeHead or PageKind.FreeTail) { pfn++; continue; }
            int order = map.Order(pfn);
            if (map.HeadOf(pfn) != pfn) { errors.Add($"PFN {pfn:x}: folio page found before its head"); pfn++; continue; }
            int nr = 1 << order;
            if (kind == PageKind.PageTable) { pageTables++; pfn += nr; continue; }
            if (kind == PageKind.HugeZero) { pfn += nr; continue; }
            if (kind == PageKind.KernelPage) { kernelPages++; pfn += nr; continue; }
            if (kind == PageKind.Pinned) { pinnedPages++; pfn += nr; continue; }
            if (kind == PageKind.FileCache) { fileCachePages++; pfn += nr; continue; }
            int entire = pmdMaps.GetValueOrDefault(pfn);
            int folioMapcount = entire, mappedPages = 0;
            for (int p = pfn; p < pfn + nr; p++)
            {
                if (map.Kind(p) != kind || map.Order(p) != order)
                    errors.Add($"PFN {p:x}: inconsistent folio metadata inside folio {pfn:x}");
                if (p != pfn && (map.Test(p, PageFlags.PartiallyMapped) || map.Test(p, PageFlags.DeferredQueued)
                                 || map.Test(p, PageFlags.LazyFree) || map.Test(p, PageFlags.Dirty)
                                 || map.Test(p, PageFlags.Referenced) || map.Test(p, PageFlags.Active)))
                    errors.Add($"PFN {p:x}: folio flags on a tail page of folio {pfn:x}");
                int expect = pteMaps.GetValueOrDefault(p);
                if (map.PteMapcount(p) != expect)
                    errors.Add($"PFN {p:x}: mapcount {map.PteMapcount(p)} but {expect} PTEs map it");
                folioMapcount += expect;
                if (expect > 0) mappedPages++;
                if (expect > 0 || entire > 0) anonMapped++;
            }
            if (map.EntireMapcount(pfn) != entire)
                errors.Add($"folio {pfn:x}: entire mapcount {map.EntireMapcount(pfn)} but {entire} PMDs map it");
            int refcount = map.Refcount(pfn);
            int pins = 0;
            for (int p = pfn; p < pfn + nr; p++) pins += pinCounts.GetValueOrDefault(p);
            int pinRefs = order > 0 ? pins : pins * Kernel.GupPinCountingBias;
            if (refcount < folioMapcount)
                errors.Add($"folio {pfn:x}: refcount {refcount} below mapcount {folioMapcount}");
            if (refcount != folioMapcount + pinRefs)
                errors.Add($"folio {pfn:x}: refcount {refcount} but {folioMapcount} mappings and {pins} pins (leak)");
            if (refcount == 0)
                errors.Add($"folio {pfn:x}: allocated with refcount 0");
            if (order > 0)
            {
                var lf = map.Large(pfn);
                if (lf.Pincount != pins) errors.Add($"folio {pfn:x}: pincount {lf.Pincount} but {pins} pins");
                if (lf.LargeMapcount != folioMapcount) errors.Add($"folio {pfn:x}: large mapcount {lf.LargeMapcount} but {folioMapcount} mappings");
                CheckMmIds(pfn, lf, folioMapcount, perMm, errors);
                if (lf.NrPagesMapped != mappedPages)
                    errors.Add($"folio {pfn:x}: nr_pages_mapped {lf.NrPagesMapped} but {mappedPages} pages PTE-mapped");
                nrAnon[order]++;
                if (map.Test(pfn, PageFlags.PartiallyMapped))
                {
                    nrPartial[order]++;
                    if (!map.Test(pfn, PageFlags.DeferredQueued)) errors.Add($"folio {pfn:x}: partially mapped but not queued for deferred split");
                }
                if (map.Test(pfn, PageFlags.DeferredQueued)) queued++;
                if (entire > 0) anonThps += nr;
            }
            pfn += nr;
        }
        foreach (var pfn in pteMaps.Keys.Concat(pmdMaps.Keys))
            if (pfn >= frontier) errors.Add($"PFN {pfn:x} is mapped but was never allocated");
        if (anonMapped != k.NrAnonMapped) errors.Add($"NR_ANON_MAPPED {k.NrAnonMapped} != {anonMapped} mapped anon pages");
        if (anonThps != k.NrAnonThps) errors.Add($"NR_ANON_THPS {k.NrAnonThps} != {anonThps} PMD-mapped anon pages");
        if (pageTables != k.NrPageTablePages || pageTables != pageTablesSeen)
            errors.Add($"page tables: counter {k.NrPageTablePages}, allocated {pageTables}, in use {pageTablesSeen}");
        if (kernelPages != k.NrKernelPages || pinnedPages != k.NrPinnedPages || fileCachePages != k.NrFileCachePages)
            errors.Add($"aged memory: {kernelPages} kernel, {pinnedPages} pinned and {fileCachePages} page cache pages, counters {k.NrKernelPages}, {k.NrPinnedPages} and {k.NrFileCachePages}");
        if (queued != k.DeferredSplitQueueLength || k.DeferredSplitQueue().Count() != queued)
            errors.Add($"deferred split queue length {k.DeferredSplitQueueLength} != {queued} queued folios");
        for (int o = 1; o <= k.Geo.PmdOrder; o++)
        {
            if (k.Stats.Get(o, MthpStat.NrAnon) != nrAnon[o])
                errors.Add($"{k.SizeDir(o)}/stats/nr_anon {k.Stats.Get(o, MthpStat.NrAnon)} != {nrAnon[o]} folios");
            if (k.Stats.Get(o, MthpStat.NrAnonPartiallyMapped) != nrPartial[o])
                errors.Add($"{k.SizeDir(o)}/stats/nr_anon_partially_mapped {k.Stats.Get(o, MthpStat.NrAnonPartiallyMapped)} != {nrPartial[o]}");
        }
    }

    static void CheckBuddy(Kernel k, List<string> errors)
    {
        var map = k.Map;
        long freeBelowFrontier = 0;
        var perSlot = new Dictionary<(int, MigrateType), long>();
        foreach (var (pfn, order) in k.Buddy.FreeBlocks())
        {
            var key = (order, k.Buddy.BlockType(pfn));
            perSlot[key] = perSlot.GetValueOrDefault(key) + 1;
            if ((pfn & ((1 << order) - 1)) != 0) errors.Add($"free block {pfn:x} of order {order} is misaligned");
            for (int p = pfn + 1; p < pfn + (1 << order); p++)
                if (map.Kind(p) != PageKind.FreeTail) { errors.Add($"free block {pfn:x} order {order} contains a used page {p:x}"); break; }
            freeBelowFrontier += 1L << order;
        }
        for (int o = 0; o <= k.Buddy.MaxOrder; o++)
            foreach (var t in new[] { MigrateType.Unmovable, MigrateType.Movable, MigrateType.Reclaimable })
                if (perSlot.GetValueOrDefault((o, t)) != k.Buddy.NrFree(o, t))
                    errors.Add($"buddy order {o} {MigrateTypes.Name(t)}: nr_free {k.Buddy.NrFree(o, t)} but {perSlot.GetValueOrDefault((o, t))} blocks listed");
        long freeKinds = 0;
        for (int p = 0; p < k.Buddy.Frontier; p++)
            if (map.Kind(p) is PageKind.FreeHead or PageKind.FreeTail) freeKinds++;
        if (freeKinds != freeBelowFrontier)
            errors.Add($"buddy: {freeKinds} pages marked free but free lists hold {freeBelowFrontier}");
        if (k.Buddy.FreePages != freeBelowFrontier + (k.Buddy.TotalPages - k.Buddy.Frontier))
            errors.Add($"buddy: FreePages {k.Buddy.FreePages} inconsistent with free lists");
    }

    /// <summary>
    /// What CONFIG_MM_ID guarantees: a slot never counts more mappings than its mm has (it can count
    /// fewer: mappings added while no slot was free are later subtracted from a slot, a corner case the
    /// kernel accepts), and a folio not marked maybe-mapped-shared is mapped by one mm only.
    /// </summary>
    static void CheckMmIds(int head, LargeFolioInfo lf, int mappings, Dictionary<(int Head, int Mm), int> perMm, List<string> errors)
    {
        if (lf.MmId0 != 0 && lf.MmCount0 > perMm.GetValueOrDefault((head, lf.MmId0)))
            errors.Add($"folio {head:x}: mm slot 0 (mm {lf.MmId0}) counts {lf.MmCount0}, more than the {perMm.GetValueOrDefault((head, lf.MmId0))} mappings of that mm");
        if (lf.MmId1 != 0 && lf.MmCount1 > perMm.GetValueOrDefault((head, lf.MmId1)))
            errors.Add($"folio {head:x}: mm slot 1 (mm {lf.MmId1}) counts {lf.MmCount1}, more than the {perMm.GetValueOrDefault((head, lf.MmId1))} mappings of that mm");
        int mms = perMm.Count(kv => kv.Key.Head == head && kv.Value > 0);
        if (!lf.MaybeMappedShared && mms > 1)
            errors.Add($"folio {head:x}: not marked maybe-mapped-shared but mapped by {mms} mms");
    }
}
