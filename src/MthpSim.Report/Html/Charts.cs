using System.Text.Json.Nodes;

namespace MthpSim.Report.Html;

/// <summary>The Vega-Lite specs the reports draw: each takes its rows inline and names the fields it encodes.</summary>
public static class Charts
{
    static JsonObject Field(string field, string type, string? title = null, JsonObject? extra = null)
    {
        var f = new JsonObject { ["field"] = field, ["type"] = type, ["title"] = title ?? field };
        foreach (var (k, v) in extra ?? []) f[k] = v?.DeepClone();
        return f;
    }

    static JsonObject Base(string title, JsonArray rows) => new()
    {
        ["title"] = title,
        ["data"] = new JsonObject { ["values"] = rows.DeepClone() },   // a chart owns its copy: rows may serve several
    };

    /// <summary>Sorts a field's values as numbers where they all are, else in the order given.</summary>
    static JsonNode Order(IEnumerable<string> values)
    {
        var list = values.Distinct().ToList();
        var ordered = list.All(v => double.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out _))
            ? list.OrderBy(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToList() : list;
        return new JsonArray([.. ordered.Select(v => (JsonNode)v)]);
    }

    /// <summary>A heat map of <paramref name="value"/> over two nominal fields, one panel per <paramref name="facet"/> value.</summary>
    public static JsonObject Heatmap(string title, JsonArray rows, string x, string y, string value, string? facet, IEnumerable<string> xOrder, IEnumerable<string> yOrder)
    {
        var spec = Base(title, rows);
        var inner = new JsonObject
        {
            ["width"] = 320,
            ["height"] = 140,
            ["layer"] = new JsonArray(
                new JsonObject { ["mark"] = new JsonObject { ["type"] = "rect", ["tooltip"] = true } },
                new JsonObject
                {
                    ["mark"] = new JsonObject { ["type"] = "text", ["fontSize"] = 9 },
                    ["encoding"] = new JsonObject { ["text"] = Field(value, "quantitative", value, new JsonObject { ["format"] = ".3~s" }) },
                }),
            ["encoding"] = new JsonObject
            {
                ["x"] = Field(x, "ordinal", x, new JsonObject { ["sort"] = Order(xOrder) }),
                ["y"] = Field(y, "ordinal", y, new JsonObject { ["sort"] = Order(yOrder) }),
                ["color"] = Field(value, "quantitative", value, new JsonObject { ["scale"] = new JsonObject { ["scheme"] = "viridis" } }),
            },
        };
        if (facet == null) { foreach (var (k, v) in inner) spec[k] = v?.DeepClone(); return spec; }
        spec["facet"] = new JsonObject { ["row"] = Field(facet, "nominal", "", new JsonObject { ["header"] = new JsonObject { ["labelAngle"] = 0, ["labelAlign"] = "left", ["labelLimit"] = 400 } }) };
        spec["spec"] = inner;
        spec["resolve"] = new JsonObject { ["scale"] = new JsonObject { ["color"] = "independent" } };
        return spec;
    }

    /// <summary>Lines of <paramref name="value"/> over <paramref name="x"/>, one per <paramref name="color"/> value, one panel per <paramref name="facet"/> value.</summary>
    public static JsonObject Lines(string title, JsonArray rows, string x, string xType, string value, string? color, string? facet, IEnumerable<string>? xOrder = null)
    {
        var spec = Base(title, rows);
        var encoding = new JsonObject
        {
            ["x"] = Field(x, xType, x, xOrder == null ? null : new JsonObject { ["sort"] = Order(xOrder) }),
            ["y"] = Field(value, "quantitative"),
        };
        if (color != null) encoding["color"] = Field(color, "nominal");
        var inner = new JsonObject
        {
            ["width"] = 420,
            ["height"] = 160,
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true, ["tooltip"] = true },
            ["encoding"] = encoding,
        };
        if (facet == null) { foreach (var (k, v) in inner) spec[k] = v?.DeepClone(); return spec; }
        spec["facet"] = new JsonObject { ["row"] = Field(facet, "nominal", "", new JsonObject { ["header"] = new JsonObject { ["labelAngle"] = 0, ["labelAlign"] = "left", ["labelLimit"] = 400 } }) };
        spec["spec"] = inner;
        spec["resolve"] = new JsonObject { ["scale"] = new JsonObject { ["y"] = "independent" } };
        return spec;
    }

    /// <summary>Bars of <paramref name="value"/> per <paramref name="x"/>, coloured by <paramref name="color"/> when given.</summary>
    public static JsonObject Bars(string title, JsonArray rows, string x, string value, string? color = null, IEnumerable<string>? xOrder = null)
    {
        var spec = Base(title, rows);
        spec["width"] = 360;
        spec["height"] = 180;
        spec["mark"] = new JsonObject { ["type"] = "bar", ["tooltip"] = true };
        var encoding = new JsonObject
        {
            ["x"] = Field(x, "nominal", x, xOrder == null ? null : new JsonObject { ["sort"] = Order(xOrder) }),
            ["y"] = Field(value, "quantitative"),
        };
        if (color != null) encoding["color"] = Field(color, "nominal");
        spec["encoding"] = encoding;
        return spec;
    }

    /// <summary>
    /// Stacked bars of <paramref name="value"/> per <paramref name="x"/>, split by <paramref name="stack"/>
    /// (folio sizes, in <paramref name="stackOrder"/>), in a grid of panels by <paramref name="row"/> and <paramref name="column"/>.
    /// </summary>
    public static JsonObject StackedBars(string title, JsonArray rows, string x, string value, string stack, IEnumerable<string> stackOrder,
        string? row, string? column, IEnumerable<string> xOrder, IEnumerable<string>? columnOrder = null)
    {
        var spec = Base(title, rows);
        var inner = new JsonObject
        {
            ["width"] = 160,
            ["height"] = 110,
            ["mark"] = new JsonObject { ["type"] = "bar", ["tooltip"] = true },
            ["encoding"] = new JsonObject
            {
                ["x"] = Field(x, "ordinal", x, new JsonObject { ["sort"] = Order(xOrder) }),
                ["y"] = Field(value, "quantitative"),
                ["color"] = Field(stack, "nominal", stack, new JsonObject { ["sort"] = new JsonArray([.. stackOrder.Select(c => (JsonNode)c)]) }),
                ["order"] = new JsonObject { ["field"] = "rank", ["type"] = "quantitative" },
            },
        };
        if (row == null && column == null) { foreach (var (k, v) in inner) spec[k] = v?.DeepClone(); return spec; }
        var facet = new JsonObject();
        if (row != null) facet["row"] = Field(row, "nominal", "", new JsonObject { ["header"] = new JsonObject { ["labelAngle"] = 0, ["labelAlign"] = "left", ["labelLimit"] = 400 } });
        if (column != null) facet["column"] = Field(column, "nominal", column, columnOrder == null ? null : new JsonObject { ["sort"] = Order(columnOrder) });
        spec["facet"] = facet;
        spec["spec"] = inner;
        spec["resolve"] = new JsonObject { ["scale"] = new JsonObject { ["y"] = "independent" } };
        return spec;
    }

    /// <summary>Horizontal ranges [x, x2) per <paramref name="y"/> row, coloured by <paramref name="color"/> (the address-space map).</summary>
    public static JsonObject Ranges(string title, JsonArray rows, string x, string x2, string y, string color, IEnumerable<string> colorOrder, string xTitle)
    {
        var spec = Base(title, rows);
        spec["width"] = 900;
        spec["mark"] = new JsonObject { ["type"] = "bar", ["tooltip"] = true, ["height"] = new JsonObject { ["band"] = 0.8 } };
        spec["encoding"] = new JsonObject
        {
            ["x"] = Field(x, "quantitative", xTitle),
            ["x2"] = new JsonObject { ["field"] = x2 },
            ["y"] = Field(y, "nominal", y, new JsonObject { ["sort"] = null, ["axis"] = new JsonObject { ["labelLimit"] = 400 } }),
            ["color"] = Field(color, "nominal", color, new JsonObject { ["sort"] = new JsonArray([.. colorOrder.Select(c => (JsonNode)c)]) }),
        };
        return spec;
    }
}
