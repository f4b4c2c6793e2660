using System.CommandLine;
using MthpSim.Core;
using MthpSim.Oracle.Record;
using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;
using MthpSim.Trace.Truth;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim record [-o DIR] [--truth] [--set PATH=VALUE]... -- CMD ARGS...</c>: records a program on
/// the live machine into DIR/trace.mtrace, then checks the trace by replaying it against the
/// recorded run's own census (every size off), and with --truth writes DIR/truth.json.
/// </summary>
public static class RecordCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var output = new Option<string?>("-o", "--output") { Description = "Output directory (default: trace-CMD)" };
        var truth = new Option<bool>("--truth") { Description = "Also run the program under the settings asked for (as found plus --set) and write what the live kernel did to DIR/truth.json" };
        var sets = new Option<string[]>("--set") { Description = "PATH=VALUE under /sys/kernel/mm/transparent_hugepage (repeatable; restored afterwards): for the truth run with --truth, else for the traced run (whose mTHP sizes stay off)" };
        var truthAs = new Option<string[]>("--truth-as") { Description = "NAME:PATH=VALUE[,PATH=VALUE...]: one more truth run under these settings, written to DIR/truth-NAME.json (repeatable)" };
        var keep = new Option<bool>("--keep-perf-data") { Description = "Keep perf.data and the census files in DIR" };
        var command = new Argument<string[]>("CMD") { Description = "The program and its arguments, after --", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("record", "Record a program's memory behaviour on the live machine with perf, for replay") { output, truth, sets, truthAs, keep, command };
        cmd.SetAction(pr =>
        {
            var argv = pr.GetValue(command) ?? [];
            if (ParseSets(pr.GetValue(sets) ?? [], "--set", stderr) is not { } setList) return 2;
            var runs = new List<TruthRun>();
            var traced = new List<KeyValuePair<string, string>>();
            if (pr.GetValue(truth)) runs.Add(new TruthRun("truth", setList));
            else
            {
                // Without --truth, --set is for the traced run; its mTHP sizes stay off (they would hide first touches).
                foreach (var (k, v) in setList)
                    if (TraceRecorder.IsSizeSetting(k) && v != "never")
                    { stderr.WriteLine($"mthpsim record: the trace is recorded with every mTHP size off; to see what the kernel does with {k}={v}, add --truth"); return 2; }
                traced = setList;
            }
            foreach (var spec in pr.GetValue(truthAs) ?? [])
            {
                int colon = spec.IndexOf(':');
                string name = colon > 0 ? spec[..colon] : "";
                if (name.Length == 0 || name == "truth" || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                { stderr.WriteLine($"mthpsim record: --truth-as '{spec}' is not NAME:PATH=VALUE[,PATH=VALUE...] (NAME: letters, digits, - and _, not 'truth')"); return 2; }
                if (ParseSets(spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries), "--truth-as", stderr) is not { } list) return 2;
                runs.Add(new TruthRun(name, list));
            }
            string dir = pr.GetValue(output) ?? "trace-" + Path.GetFileName(argv.FirstOrDefault() ?? "cmd");
            RecordOutcome o;
            try { o = TraceRecorder.Run(new RecordRequest(dir, argv, runs, pr.GetValue(keep)) { TracedSets = traced }, stderr); }
            catch (RecordRefusedException e) { stderr.WriteLine($"mthpsim record: {e.Message}"); return 2; }
            catch (RecordInterruptedException e) { stderr.WriteLine($"mthpsim record: {e.Message}"); return e.ExitStatus; }
            string status = o.ExitSignal is int sig ? $"was killed by signal {sig}" : $"exited with status {o.ExitStatus}";
            stdout.WriteLine($"{argv[0]} {status}");
            stdout.WriteLine($"{o.TracePath}: {o.Conversion.Records:N0} records ({new FileInfo(o.TracePath).Length:N0} bytes)");
            bool complete = TraceCommand.Report(stderr, "mthpsim record", o.Conversion);
            if (o.PerfLostSamples > 0) { stderr.WriteLine($"mthpsim record: perf lost {o.PerfLostSamples:N0} samples: the trace is incomplete"); complete = false; }
            // The check: the trace replayed under the recorded run's settings must give what that run ended with.
            using (var reader = TraceReader.Open(o.TracePath))
            {
                var recorded = TruthFile.Load(o.RecordedCensusPath);
                var k = ReplayMachine.Create(reader.Header, recorded.Settings, null, 16L << 30);
                var replay = TraceReplay.Run(k, reader);
                foreach (var (what, (count, first)) in replay.Problems) stderr.WriteLine($"mthpsim record: check: {what}: {count:N0} (first: {first})");
                stdout.Write(CompareTruth.Table($"check: replay against the recorded run ({o.RecordedCensusPath})", k, replay, recorded, out _));
            }
            foreach (var p in o.TruthPaths) stdout.WriteLine($"{p}: the live kernel's result under the settings asked for");
            return complete ? 0 : 1;
        });
        return cmd;
    }

    static List<KeyValuePair<string, string>>? ParseSets(IEnumerable<string> items, string option, TextWriter stderr)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var s in items)
        {
            int eq = s.IndexOf('=');
            if (eq <= 0) { stderr.WriteLine($"mthpsim record: {option} '{s}' is not PATH=VALUE"); return null; }
            list.Add(new(s[..eq], s[(eq + 1)..]));
        }
        return list;
    }
}
