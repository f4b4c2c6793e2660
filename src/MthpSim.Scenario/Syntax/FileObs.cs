namespace MthpSim.Scenario.Syntax;

/// <summary>What a file observable reports.</summary>
public enum FileAttr { FolioOrder, FolioKind, Size, Blocks }

/// <summary><c>file FILE folio OFF order|kind</c>, <c>file FILE size</c>, <c>file FILE blocks</c>.</summary>
public sealed record FileObs(SourceSpan Span, string File, FileAttr Attr, long Offset) : Observable(Span)
{
    public override string ToString() => Attr switch
    {
        FileAttr.FolioOrder => $"file {File} folio {NumberSyntax.FormatSize(Offset)} order",
        FileAttr.FolioKind => $"file {File} folio {NumberSyntax.FormatSize(Offset)} kind",
        FileAttr.Size => $"file {File} size",
        _ => $"file {File} blocks",
    };
}
