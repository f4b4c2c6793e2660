namespace MthpSim.Scenario.Syntax;

/// <summary>madvise advice, written hugepage | nohugepage | dontneed | free | collapse |
/// populate_read | populate_write | pageout | cold.</summary>
public enum Advice { Hugepage, Nohugepage, Dontneed, Free, Collapse, PopulateRead, PopulateWrite, Pageout, Cold, Remove }
