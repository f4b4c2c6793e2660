using MthpSim.Core;
using MthpSim.Core.Debug;
using MthpSim.Core.Folio;
using MthpSim.Core.PageTable;
using MthpSim.Core.Vma;
using MthpSim.Scenario.Fuzz;
using MthpSim.Scenario.Runtime;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Tests.Core;

/// <summary>
/// The fast checker against <see cref="ReferenceInvariantChecker"/> on machines the fuzzer built,
/// each corrupted in one random way: both must report the same violations, word for word and in
/// the same order, and a corruption that breaks an invariant must be reported.
/// </summary>
public class InvariantCheckerDifferentialTests
{
    /// <summary>A machine after <paramref name="steps"/> generated statements (no checks on the way).</summary>
    internal static Kernel FuzzedMachine(ulong seed, int steps) =>
        // Anonymous memory only, no cgroups: the reference checker knows no page cache and no charges
        // (those are checked by InvariantCheckerTests and by every fuzz episode).
        MthpSim.Tests.Runtime.GeneratedEpisode.Run(seed, steps, GeneratorProfile.Simulator with { Shmem = false, Cgroups = false }).Kernel;

    [Fact]
    public void Random_corruptions_are_reported_exactly_as_the_reference_checker_reports_them()
    {
        var rng = new Random(20261121);
        var checker = new InvariantChecker();
        var kinds = new Dictionary<string, int>();
        for (int trial = 0; trial < 150; trial++)
        {
            var k = FuzzedMachine(0xC0FFEE + (ulong)trial, 20 + rng.Next(300));
            Assert.Empty(ReferenceInvariantChecker.Check(k));
            Assert.Empty(checker.Run(k));
            if (Corrupt(k, rng) is not var (what, mustBeCaught)) continue;
            var expected = ReferenceInvariantChecker.Check(k);
            var actual = checker.Run(k);
            Assert.True(expected.SequenceEqual(actual),
                $"trial {trial}, {what}:\nreference:\n  {string.Join("\n  ", expected)}\nchecker:\n  {string.Join("\n  ", actual)}");
            if (mustBeCaught) Assert.True(actual.Count > 0, $"trial {trial}: {what} went unnoticed");
            kinds[what.Split(' ')[0]] = kinds.GetValueOrDefault(what.Split(' ')[0]) + 1;
        }
        // The catalogue below was exercised broadly, not just its easy cases.
        Assert.True(kinds.Count >= 12, "corruption kinds tried: " + string.Join(", ", kinds.Keys));
    }

    /// <summary>One random corruption, or null when the machine has nothing of that kind to corrupt.</summary>
    static (string What, bool MustBeCaught)? Corrupt(Kernel k, Random rng)
    {
        var map = k.Map;
        int frontier = (int)k.Buddy.Frontier;
        var anonHeads = Enumerable.Range(0, frontier).Where(p => map.Kind(p) == PageKind.Anon && map.HeadOf(p) == p).ToList();
        var largeHeads = anonHeads.Where(p => map.Order(p) > 0).ToList();
        var freePages = Enumerable.Range(0, frontier).Where(p => map.Kind(p) is PageKind.FreeHead or PageKind.FreeTail).ToList();
        var mms = k.Processes.ToList();
        var mapped = (from mm in mms
                      from s in Slots(k, mm)
                      from i in Enumerable.Range(0, k.Geo.PtrsPerPte)
                      let pfn = MappedPfn(s.Slot, i)
                      where pfn >= 0
                      select (Mm: mm, s.Slot, Index: i, Pfn: pfn, Addr: s.Base + ((ulong)i << k.Geo.PageShift))).ToList();
        T Pick<T>(List<T> l) => l[rng.Next(l.Count)];
        switch (rng.Next(17))
        {
            case 0 when mapped.Count > 0:
            {
                var m = Pick(mapped);
                map.AddPteMapcount(m.Pfn, rng.Next(2) == 0 ? 1 : -1);
                return ($"mapcount of mapped PFN {m.Pfn:x}", true);
            }
            case 1 when anonHeads.Count > 0:
            {
                // Any page of any folio, mapped or not (a partially mapped folio's unmapped pages too).
                int head = Pick(anonHeads);
                int pfn = head + rng.Next(1 << map.Order(head));
                map.AddPteMapcount(pfn, 1);
                return ($"mapcount of PFN {pfn:x}", true);
            }
            case 2 when anonHeads.Count > 0:
            {
                int head = Pick(anonHeads);
                map.AddRef(head, rng.Next(2) == 0 ? 1 : -1);
                return ($"refcount of folio {head:x}", true);
            }
            case 3 when mapped.Count > 0:
            {
                var m = Pick(mapped);
                map.SetContent(m.Pfn, map.Content(m.Pfn) + 1 + (uint)rng.Next(1000));
                return ($"content of PFN {m.Pfn:x} at {m.Addr:x}", true);
            }
            case 4 when mapped.Count > 0:
            {
                // What the program expects, not what memory holds: the oracle side of the content check.
                var m = Pick(mapped);
                if (m.Slot.Expected == null) return null;
                m.Slot.Expected[m.Index] = map.Content(m.Pfn) + 1;
                return ($"expected content at {m.Addr:x}", true);
            }
            case 5 when mms.Count > 0:
            {
                var mm = Pick(mms);
                mm.Rss[(int)RssMember.AnonPages] += rng.Next(2) == 0 ? 1 : -1;
                return ($"RSS counter of {mm.Name}", true);
            }
            case 6 when freePages.Count > 0:
            {
                // A page inside a free block handed out behind the allocator's back.
                int pfn = Pick(freePages);
                map.InitFolio(pfn, 0, PageKind.Anon);
                return ($"free-list page {pfn:x} made a folio", true);
            }
            case 7 when mapped.Count > 0:
            {
                // A folio freed while still mapped (put_page() once too often).
                var m = Pick(mapped);
                int head = map.HeadOf(m.Pfn);
                int order = map.Order(head);
                map.ReleaseFolio(head);
                k.Buddy.Free(head, order);
                return ($"mapped folio {head:x} freed", true);
            }
            case 8 when largeHeads.Count > 0:
            {
                int head = Pick(largeHeads);
                var lf = map.Large(head);
                switch (rng.Next(4))
                {
                    case 0: lf.EntireMapcount++; break;
                    case 1: lf.NrPagesMapped++; break;
                    case 2: lf.LargeMapcount--; break;
                    default: lf.Pincount++; break;
                }
                map.SetLarge(head, lf);
                return ($"large-folio field of {head:x}", true);
            }
            case 9 when largeHeads.Count > 0:
            {
                int head = Pick(largeHeads);
                var lf = map.Large(head);
                // May go unnoticed (a slot may count fewer mappings than its mm has); must be judged alike.
                if (lf.MmId0 != 0) lf.MmCount0 += 1 + rng.Next(3);
                else lf.MaybeMappedShared = false;
                map.SetLarge(head, lf);
                return ($"mm-id slots of {head:x}", false);
            }
            case 10 when largeHeads.Count > 0:
            {
                int head = Pick(largeHeads);
                var flag = rng.Next(2) == 0 ? PageFlags.PartiallyMapped : PageFlags.DeferredQueued;
                if (map.Test(head, flag)) map.Clear(head, flag); else map.Set(head, flag);
                return ($"folio flag {flag} of {head:x}", true);
            }
            case 11:
                switch (rng.Next(3))
                {
                    case 0: k.NrAnonMapped++; break;
                    case 1: k.NrAnonThps += 1 << k.Geo.PmdOrder; break;
                    default: k.NrPageTablePages--; break;
                }
                return ("vmstat gauge", true);
            case 12 when mapped.Count > 0:
            {
                // A PTE cleared without the rmap knowing.
                var m = Pick(mapped);
                if (m.Slot.Kind != PmdKind.Table) return null;
                m.Slot.Ptes![m.Index] = 0;
                return ($"PTE at {m.Addr:x} cleared", true);
            }
            case 13 when mapped.Count > 0 && anonHeads.Count > 0:
            {
                // A PTE pointed at another page frame.
                var m = Pick(mapped);
                if (m.Slot.Kind != PmdKind.Table) return null;
                int other = Pick(anonHeads);
                if (other == m.Pfn) return null;
                m.Slot.Ptes![m.Index] = Pte.Make(other, m.Slot.Ptes[m.Index] & 0xFFF);
                return ($"PTE at {m.Addr:x} redirected to {other:x}", true);
            }
            case 14 when mapped.Count > 0:
            {
                // A page that may read as zeroes (MADV_FREE) but holds something else.
                var m = Pick(mapped);
                if (m.Slot.Expected == null) return null;
                m.Slot.Expected[m.Index] = PmdSlot.MaybeZero | (map.Content(m.Pfn) + 7);
                return ($"maybe-zero expectation at {m.Addr:x}", map.Content(m.Pfn) != 0);
            }
            case 15 when largeHeads.Count > 0:
            {
                int head = Pick(largeHeads);
                k.Stats.Count(map.Order(head), MthpSim.Core.Stats.MthpStat.NrAnon);
                return ($"nr_anon of order {map.Order(head)}", true);
            }
            case 16 when largeHeads.Count > 0:
            {
                // A folio flag set on a tail page instead of the head.
                int head = Pick(largeHeads);
                int tail = head + 1 + rng.Next((1 << map.Order(head)) - 1);
                PageFlags[] flags = [PageFlags.PartiallyMapped, PageFlags.DeferredQueued, PageFlags.LazyFree, PageFlags.Dirty, PageFlags.Referenced, PageFlags.Active];
                map.Set(tail, flags[rng.Next(flags.Length)]);
                return ($"folio flag on tail {tail:x}", true);
            }
        }
        return null;
    }

    static IEnumerable<(ulong Base, PmdSlot Slot)> Slots(Kernel k, MmStruct mm) =>
        mm.PageTables.Ordered().Select(s => ((ulong)s.Index << (k.Geo.PageShift + k.Geo.PmdOrder), s.Slot));

    /// <summary>The page frame PTE index i of the slot maps (a PMD mapping maps its folio's i-th page), or -1.</summary>
    static int MappedPfn(PmdSlot slot, int i) => slot.Kind switch
    {
        PmdKind.Huge => Pte.Pfn(slot.Leaf) + i,
        PmdKind.Table when Pte.IsNormal(slot.Ptes![i]) => Pte.Pfn(slot.Ptes[i]),
        _ => -1,
    };
}
