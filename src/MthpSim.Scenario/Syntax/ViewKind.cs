namespace MthpSim.Scenario.Syntax;

/// <summary>The human-readable multi-line reports that print can show besides observables.</summary>
public enum ViewKind { Smaps, Thpmaps, Stats, Vmstat, Meminfo, Buddyinfo, Pagetypeinfo, Sysfs, KhugepagedTrace, Cost, Tlb }
