namespace MthpSim.Scenario.Syntax;

/// <summary>Comparison of an expect statement, written == != &lt; &lt;= &gt; &gt;=.</summary>
public enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }
