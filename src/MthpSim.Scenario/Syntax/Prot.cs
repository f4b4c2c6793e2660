namespace MthpSim.Scenario.Syntax;

/// <summary>Mapping protection, written none | r | rw.</summary>
public enum Prot { None, Read, ReadWrite }
