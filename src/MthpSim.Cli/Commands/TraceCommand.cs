using System.CommandLine;
using MthpSim.Trace.Format;
using MthpSim.Trace.Record;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary><c>mthpsim trace convert|dump</c>: turn perf script output into a trace, and print a trace as text.</summary>
public static class TraceCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> stdin)
    {
        var cmd = new Command("trace", "Convert perf script output into a trace file, or print a trace as text");
        cmd.Subcommands.Add(Convert(stdout, stderr, stdin));
        cmd.Subcommands.Add(Dump(stdout, stderr));
        return cmd;
    }

    static Command Convert(TextWriter stdout, TextWriter stderr, Func<Stream> stdin)
    {
        var input = new Argument<string>("PERF_SCRIPT") { Description = "Text of 'perf script' as docs/trace-format.md records it ('-': standard input)" };
        var output = new Option<string>("-o", "--output") { Description = "The trace file to write", Required = true };
        var drop = new Option<string[]>("--drop-image") { Description = "Leave out a wrapper program's records, from its exec to the next (default: setarch)" };
        var headers = new Option<string[]>("--header") { Description = "KEY=VALUE for the trace's header (e.g. thp.enabled=never)" };
        var cmd = new Command("convert", "Convert the text of 'perf script' into a trace file") { input, output, drop, headers };
        cmd.SetAction(pr =>
        {
            string src = pr.GetValue(input)!, dst = pr.GetValue(output)!;
            var header = TraceConversion.HostHeader();
            foreach (var kv in pr.GetValue(headers) ?? [])
            {
                int eq = kv.IndexOf('=');
                if (eq <= 0) { stderr.WriteLine($"mthpsim trace convert: --header {Echo.Quote(kv)} is not KEY=VALUE"); return 2; }
                header[kv[..eq]] = kv[(eq + 1)..];
            }
            TextReader reader;
            try { reader = src == "-" ? new StreamReader(stdin()) : new StreamReader(src); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { stderr.WriteLine($"mthpsim trace convert: {src}: {e.Message}"); return 2; }
            TraceConversion.Outcome o;
            using (reader)
            using (var w = TraceWriter.Create(dst, header))
                o = TraceConversion.Convert(reader, w, pr.GetValue(drop) is { Length: > 0 } d ? d : null);
            stdout.WriteLine($"{dst}: {o.Records:N0} records from {o.Lines:N0} lines");
            return Report(stderr, "mthpsim trace convert", o) ? 0 : 1;
        });
        return cmd;
    }

    /// <summary>Writes what the conversion could not use; false when the trace is incomplete (lost events or unreadable lines).</summary>
    internal static bool Report(TextWriter stderr, string who, TraceConversion.Outcome o)
    {
        if (o.LostEvents > 0) stderr.WriteLine($"{who}: perf lost {o.LostEvents:N0} events: the trace is incomplete (record with larger buffers)");
        if (o.Unparsed > 0) stderr.WriteLine($"{who}: {o.Unparsed:N0} lines not understood, the first: {o.FirstUnparsed}");
        if (o.ExitsWithoutEnter > 0) stderr.WriteLine($"{who}: {o.ExitsWithoutEnter:N0} system calls returned without their entry in the recording (left out)");
        return o.LostEvents == 0 && o.Unparsed == 0;
    }

    static Command Dump(TextWriter stdout, TextWriter stderr)
    {
        var input = new Argument<string>("TRACE");
        var limit = new Option<long?>("--limit") { Description = "Print at most this many records" };
        var cmd = new Command("dump", "Print a trace's header and records as text, one per line") { input, limit };
        cmd.SetAction(pr =>
        {
            string path = pr.GetValue(input)!;
            try
            {
                using var r = TraceReader.Open(path);
                foreach (var (k, v) in r.Header.Properties) stdout.WriteLine($"# {k}={v}");
                long max = pr.GetValue(limit) ?? long.MaxValue;
                while (r.Records < max && r.Read(out var e)) stdout.WriteLine(TraceText.Format(e));
            }
            catch (FileNotFoundException) { stderr.WriteLine($"mthpsim trace dump: {path}: no such file"); return 2; }
            catch (TraceFormatException e) { stderr.WriteLine($"mthpsim trace dump: {e.Message}"); return 2; }
            return 0;
        });
        return cmd;
    }
}
