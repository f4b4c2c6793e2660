namespace MthpSim.Core.Folio;

/// <summary>
/// What an rmap walk finds in one VMA, a run at a time: <see cref="Pages"/> pages of a folio mapped at
/// consecutive addresses from <see cref="Addr"/>, by one PMD (<see cref="Pmd"/>) or by PTEs of one page table.
/// </summary>
internal readonly record struct FolioMapping(Vma.Vma Vma, ulong Addr, int Pages, bool Pmd);
