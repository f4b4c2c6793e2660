using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MthpSim.Report.Html;

/// <summary>
/// One self-contained HTML report: headings, text, tables and Vega-Lite charts, with the plotting
/// libraries inlined so that it works offline. Each chart is drawn as SVG; the page records how many
/// charts drew and every script error on its body (<c>data-charts</c>, <c>data-drawn</c>,
/// <c>data-errors</c>), which the headless-browser test reads.
/// </summary>
public sealed class ReportDocument(string title)
{
    readonly StringBuilder _body = new();
    readonly List<JsonObject> _charts = new();

    public void Heading(string text, int level = 2) => _body.Append($"<h{level}>{Enc(text)}</h{level}>\n");

    public void Paragraph(string text) => _body.Append($"<p>{Enc(text)}</p>\n");

    /// <summary>A table of text cells; the first row is the header.</summary>
    public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _body.Append("<table><thead><tr>");
        foreach (var h in header) _body.Append($"<th>{Enc(h)}</th>");
        _body.Append("</tr></thead><tbody>\n");
        foreach (var row in rows)
        {
            _body.Append("<tr>");
            foreach (var c in row) _body.Append($"<td>{Enc(c)}</td>");
            _body.Append("</tr>\n");
        }
        _body.Append("</tbody></table>\n");
    }

    /// <summary>A Vega-Lite chart (its data inline in the spec).</summary>
    public void Chart(JsonObject spec)
    {
        spec["$schema"] = "https://vega.github.io/schema/vega-lite/v6.json";
        _body.Append($"<div class=\"chart\" id=\"chart{_charts.Count}\"></div>\n");
        _charts.Add(spec);
    }

    public int Charts => _charts.Count;

    public string Render()
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append($"<title>{Enc(title)}</title>\n");
        html.Append("""
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
            h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
            td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
            td:first-child, th:first-child { text-align: left; }
            .chart { margin: 1em 0; }
            #errors { color: #b00; white-space: pre-wrap; }
            </style>

            """);
        // Errors are collected before the libraries load, so that one of theirs is caught too.
        html.Append("<script>window.reportErrors = []; window.addEventListener('error', e => window.reportErrors.push(String(e.message)));</script>\n");
        foreach (var lib in new[] { "vega.min.js", "vega-lite.min.js", "vega-embed.min.js" })
            html.Append("<script>").Append(Vendor(lib).Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)).Append("</script>\n");
        html.Append("</head>\n<body>\n");
        html.Append($"<h1>{Enc(title)}</h1>\n");
        html.Append(_body);
        html.Append("<pre id=\"errors\"></pre>\n");
        var specs = new JsonArray([.. _charts.Select(c => (JsonNode)c.DeepClone())]);
        string json = specs.ToJsonString(new JsonSerializerOptions { WriteIndented = false }).Replace("</", "<\\/", StringComparison.Ordinal);
        html.Append($$"""
            <script>
            const specs = {{json}};
            document.body.dataset.charts = specs.length;
            let drawn = 0;
            function report() {
              document.body.dataset.drawn = drawn;
              document.body.dataset.errors = window.reportErrors.length;
              document.getElementById('errors').textContent = window.reportErrors.join('\n');
            }
            Promise.all(specs.map((spec, i) => vegaEmbed('#chart' + i, spec, { renderer: 'svg', actions: false })
              .then(() => { drawn++; })
              .catch(e => { window.reportErrors.push('chart ' + i + ': ' + e); })))
              .finally(() => { report(); document.body.dataset.done = 'true'; });
            report();
            </script>

            """);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    static string Enc(string s) => WebUtility.HtmlEncode(s);

    static string Vendor(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the report's {name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
