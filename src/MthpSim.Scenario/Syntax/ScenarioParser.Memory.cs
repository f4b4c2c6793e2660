using MthpSim.Core.PageAlloc;

namespace MthpSim.Scenario.Syntax;

// Physical memory: age KIND SIZE [scattered|clustered], compact, sysctl NAME = VALUE.
public sealed partial class ScenarioParser
{
    private AgeStmt ParseAge(TokenCursor c, SourceSpan span, string text)
    {
        var kind = OneOf(c, "what ages the machine (unmovable, reclaimable or pinned)", ["unmovable", "reclaimable", "pinned"]) switch
        {
            "unmovable" => AgeKind.Unmovable,
            "reclaimable" => AgeKind.Reclaimable,
            _ => AgeKind.Pinned,
        };
        long size = Length(c.Next(SizeExpected));
        bool scattered = c.AtEnd || OneOf(c, "a placement (scattered or clustered)", ["scattered", "clustered"]) == "scattered";
        c.End("age");
        return new AgeStmt(span, text, kind, size, scattered);
    }

    private SysctlWriteStmt ParseSysctl(TokenCursor c, SourceSpan span, string text)
    {
        var name = c.Next("a sysctl name (e.g. vm.compaction_proactiveness)");
        if (!MthpSim.Core.Kernel.Sysctls.Contains(name.Text))
            throw Error(name, $"the model has no sysctl {Echo.Quote(name.Text)}; it has {string.Join(", ", MthpSim.Core.Kernel.Sysctls)}"
                + Suggestions.DidYouMean(name.Text, MthpSim.Core.Kernel.Sysctls));
        var eq = c.Next("'=' after the sysctl name");
        if (eq.Text != "=")
            throw Error(eq, $"expected '=' after the sysctl name, got {Echo.Quote(eq.Text)}");
        var value = c.Next("a value after '='").Text;
        c.End("sysctl");
        return new SysctlWriteStmt(span, text, name.Text, value);
    }
}
