namespace MthpSim.Scenario.Syntax;

/// <summary><c>P folio REGION OFF order|kind</c>.</summary>
public sealed record FolioObs(SourceSpan Span, string Process, string Region, long Offset, FolioAttr Attr) : Observable(Span)
{
    public override string ToString() =>
        $"{Process} folio {Region} {NumberSyntax.FormatSize(Offset)} {(Attr == FolioAttr.Order ? "order" : "kind")}";
}
