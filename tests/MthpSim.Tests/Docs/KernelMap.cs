using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MthpSim.Tests.Docs;

/// <summary>One modelled kernel function: the C# member that models it and the file it is in.</summary>
public sealed record KernelMapEntry(string Function, string Member, string File);

/// <summary>
/// The kernel map of docs/architecture.md, read from the "models foo()" comments under src/.
/// A comment (a run of // lines, or a /// doc comment) names the kernel functions it models after
/// the word "models", up to the first colon or full stop: every name written as a call, foo() or
/// foo(ARGS). The comment belongs to the member it precedes, or, inside a body, to the member that
/// holds it.
/// </summary>
public static partial class KernelMap
{
    public const string Begin = "<!-- kernel-map:begin -->";
    public const string End = "<!-- kernel-map:end -->";

    [GeneratedRegex(@"\bmodels\s+")]
    private static partial Regex ModelsWord();

    /// <summary>The clause ends at a colon or full stop followed by a space or the end.</summary>
    [GeneratedRegex(@"[:.](\s|$)")]
    private static partial Regex ClauseEnd();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)\(")]
    private static partial Regex CallName();

    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex XmlTag();

    /// <summary>Every entry for the C# files below <paramref name="srcDir"/>, paths relative to <paramref name="root"/>, sorted by function, file, member.</summary>
    public static IReadOnlyList<KernelMapEntry> Collect(string root, string srcDir)
    {
        var entries = new SortedSet<KernelMapEntry>(Comparer<KernelMapEntry>.Create(Compare));
        var files = Directory.EnumerateFiles(srcDir, "*.cs", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
            .Where(p => !p.Contains("/obj/") && !p.Contains("/bin/"))
            .Order(StringComparer.Ordinal);
        foreach (string file in files)
            foreach (var e in FromSource(File.ReadAllText(Path.Combine(root, file)), file)) entries.Add(e);
        return [.. entries];
    }

    static int Compare(KernelMapEntry a, KernelMapEntry b)
    {
        int c = string.CompareOrdinal(a.Function, b.Function);
        if (c == 0) c = string.CompareOrdinal(a.File, b.File);
        return c != 0 ? c : string.CompareOrdinal(a.Member, b.Member);
    }

    /// <summary>The entries of one source file (unsorted, possibly repeated).</summary>
    public static IEnumerable<KernelMapEntry> FromSource(string source, string file)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Preview));
        foreach (var (token, text) in Comments(tree.GetRoot()))
        {
            var functions = Functions(text).ToList();
            if (functions.Count == 0) continue;
            string member = MemberName(token);
            foreach (string f in functions) yield return new KernelMapEntry(f, member, file);
        }
    }

    /// <summary>The kernel functions a comment's text says it models.</summary>
    public static IEnumerable<string> Functions(string text)
    {
        foreach (Match m in ModelsWord().Matches(text))
        {
            string rest = text[(m.Index + m.Length)..];
            var end = ClauseEnd().Match(rest);
            string clause = end.Success ? rest[..end.Index] : rest;
            foreach (Match call in CallName().Matches(clause)) yield return call.Groups[1].Value;
        }
    }

    /// <summary>Each comment with the token it is attached to: consecutive // lines as one text, a doc comment without its tags.</summary>
    static IEnumerable<(SyntaxToken Token, string Text)> Comments(SyntaxNode root)
    {
        foreach (var token in root.DescendantTokens())
        {
            foreach (var list in new[] { token.LeadingTrivia, token.TrailingTrivia })
            {
                var run = new StringBuilder();
                foreach (var trivia in list)
                {
                    if (trivia.IsKind(SyntaxKind.SingleLineCommentTrivia))
                    {
                        run.Append(' ').Append(trivia.ToString().AsSpan(2));
                        continue;
                    }
                    if (trivia.IsKind(SyntaxKind.WhitespaceTrivia) || trivia.IsKind(SyntaxKind.EndOfLineTrivia)) continue;
                    if (run.Length > 0) { yield return (token, run.ToString()); run.Clear(); }
                    if (trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) || trivia.IsKind(SyntaxKind.MultiLineDocumentationCommentTrivia))
                    {
                        string doc = string.Join(' ', trivia.ToFullString().Split('\n').Select(l => l.Trim().TrimStart('/').Trim()));
                        yield return (token, XmlTag().Replace(doc, ""));
                    }
                }
                if (run.Length > 0) yield return (token, run.ToString());
            }
        }
    }

    /// <summary>Type.Member for the innermost member around the token (a local function as Type.Member.Local; a type as itself).</summary>
    static string MemberName(SyntaxToken token)
    {
        var parts = new List<string>();
        for (var node = token.Parent; node != null; node = node.Parent)
        {
            string? name = node switch
            {
                LocalFunctionStatementSyntax l => l.Identifier.Text,
                BaseTypeDeclarationSyntax t => t.Identifier.Text,
                DelegateDeclarationSyntax d => d.Identifier.Text,
                MethodDeclarationSyntax m => m.Identifier.Text,
                ConstructorDeclarationSyntax c => c.Identifier.Text,
                PropertyDeclarationSyntax p => p.Identifier.Text,
                EventDeclarationSyntax e => e.Identifier.Text,
                IndexerDeclarationSyntax => "this[]",
                OperatorDeclarationSyntax o => "operator " + o.OperatorToken.Text,
                ConversionOperatorDeclarationSyntax c => "operator " + c.Type,
                BaseFieldDeclarationSyntax f => string.Join(", ", f.Declaration.Variables.Select(v => v.Identifier.Text)),
                EnumMemberDeclarationSyntax em => em.Identifier.Text,
                _ => null,
            };
            if (name != null) parts.Add(name);
        }
        if (parts.Count == 0) throw new InvalidOperationException($"a models comment outside any type, at {token.GetLocation().GetLineSpan()}");
        parts.Reverse();
        return string.Join('.', parts);
    }

    /// <summary>The markdown table the doc holds between <see cref="Begin"/> and <see cref="End"/>.</summary>
    public static string Table(IReadOnlyList<KernelMapEntry> entries)
    {
        var sb = new StringBuilder();
        sb.Append("| Kernel function | C# member | File |\n|---|---|---|\n");
        foreach (var e in entries) sb.Append($"| `{e.Function}()` | `{e.Member}` | `{e.File}` |\n");
        return sb.ToString();
    }

    /// <summary>The doc with the text between the markers replaced by <paramref name="table"/>.</summary>
    public static string WithTable(string doc, string table)
    {
        int begin = doc.IndexOf(Begin, StringComparison.Ordinal), end = doc.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin) throw new InvalidOperationException($"the doc has no {Begin} ... {End} section");
        return doc[..(begin + Begin.Length)] + "\n" + table + doc[end..];
    }
}
