namespace MthpSim.Scenario.Syntax;

// Memory cgroups: cgroup CG [limit=SIZE], cgroup CG reclaim [SIZE], P cgroup CG, cgroup CG usage|max_usage.
public sealed partial class ScenarioParser
{
    private const string CgroupExpected = "a cgroup name";

    private Statement ParseCgroup(TokenCursor c, SourceSpan span, string text)
    {
        var name = c.Next(CgroupExpected);
        if (!IsIdentifier(name.Text))
            throw Error(name, $"expected a cgroup name (an identifier such as cg or batch_1), got {Echo.Quote(name.Text)}");
        int? line = _bindings.CgroupLine(name.Text);
        if (c.Peek() is { Text: "reclaim" })
        {
            RequireCgroup(name);
            c.Next("reclaim");
            long? size = c.AtEnd ? null : Length(c.Next(SizeExpected));
            c.End("cgroup reclaim");
            return new CgroupReclaimStmt(span, text, name.Text, size);
        }
        if (c.Peek() is { Text: "usage" or "max_usage" } word)
            throw Error(word, $"'cgroup {name.Text} {word.Text}' is an observable: write 'expect cgroup {name.Text} {word.Text} ...' or 'print cgroup {name.Text} {word.Text}'");
        long? limit = null;
        bool limitGiven = false;
        if (c.TryNext(out var t))
        {
            if (!t.Text.StartsWith("limit=", StringComparison.Ordinal))
                throw Error(t, $"expected limit=SIZE or reclaim after the cgroup name, got {Echo.Quote(t.Text)}"
                    + Suggestions.DidYouMean(t.Text.Split('=')[0], ["limit", "reclaim"]));
            string value = t.Text["limit=".Length..];
            limitGiven = true;
            if (value != "max")
            {
                var r = NumberSyntax.ParseInteger(value);
                if (!r.Ok || r.Value < 0)
                    throw Error(t, $"expected limit=SIZE with a size of 0 or more (e.g. limit=64M) or limit=max, got {Echo.Quote(t.Text)}");
                limit = r.Value;
            }
        }
        c.End("cgroup");
        if (line is int made && !limitGiven)
            throw Error(name, $"cgroup {Echo.Quote(name.Text)} already exists (created at line {made}); 'cgroup {Echo.Short(name.Text)} limit=SIZE' changes its limit");
        if (line == null) _bindings.AddCgroup(name.Text, c.Line.Number);
        return new CgroupStmt(span, text, name.Text, limit, line != null);
    }

    private string RequireCgroup(Token name)
    {
        if (_bindings.CgroupLine(name.Text) is null)
            throw Error(name, $"unknown cgroup {Echo.Quote(name.Text)} (create it first with 'cgroup {Echo.Short(name.Text)} limit=SIZE')"
                + Suggestions.DidYouMean(name.Text, _bindings.Cgroups));
        return name.Text;
    }

    private CgroupAttachStmt ParseCgroupAttach(TokenCursor c, string process, SourceSpan span, string text)
    {
        var cg = RequireCgroup(c.Next(CgroupExpected));
        c.End("cgroup");
        return new CgroupAttachStmt(span, text, process, cg);
    }

    private CgroupObs ParseCgroupObservable(TokenCursor c, SourceSpan span)
    {
        var cg = RequireCgroup(c.Next(CgroupExpected));
        var attr = OneOf(c, "a cgroup observable", ["usage", "max_usage"]);
        return new CgroupObs(span, cg, attr == "max_usage");
    }
}
