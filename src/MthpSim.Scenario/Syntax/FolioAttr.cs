namespace MthpSim.Scenario.Syntax;

/// <summary>What the folio observable reports: its order or its kind.</summary>
public enum FolioAttr { Order, Kind }
