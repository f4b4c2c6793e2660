using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MthpSim.Core;
using MthpSim.Trace.Format;
using MthpSim.Trace.Replay;
using MthpSim.Trace.Truth;
using MthpSim.Scenario.Syntax;

namespace MthpSim.Cli.Commands;

/// <summary>
/// <c>mthpsim replay TRACE [--set PATH=VALUE]... [--policy NAME] [--json]</c>: a recorded program's
/// trace on the simulated machine, under the settings it was recorded with unless told otherwise;
/// per process, what it ended with (Rss, folio sizes, faults), and what the model could not replay.
/// </summary>
public static class ReplayCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var trace = new Argument<string>("TRACE") { Description = "A trace file written by 'mthpsim record' or 'mthpsim trace convert'" };
        var sets = new Option<string[]>("--set") { Description = "PATH=VALUE under /sys/kernel/mm/transparent_hugepage, e.g. hugepages-64kB/enabled=always (repeatable; applied after the trace's own settings)", AllowMultipleArgumentsPerToken = false };
        var policy = new Option<string?>("--policy") { Description = "Collapse policy (default: the kernel's, pmd-only)" };
        var memory = new Option<string>("--memory") { Description = "Simulated memory size", DefaultValueFactory = _ => "16G" };
        var json = new Option<bool>("--json") { Description = "JSON instead of text" };
        var truthOpt = new Option<string?>("--compare-truth") { Description = "A truth.json from 'mthpsim record --truth': replay under its settings (then --set) and compare; exit 1 when a figure differs by more than 1%" };
        var vmas = new Option<bool>("--vmas") { Description = "Also list each process's VMAs with their anonymous, file and zero pages at its end" };
        var assemblies = PolicyAssemblyOption.Create();
        var cmd = new Command("replay", "Replay a recorded program's memory trace under any THP setting") { trace, sets, policy, memory, json, truthOpt, vmas, assemblies };
        cmd.SetAction(pr =>
        {
            if (PolicyAssemblyOption.Load(pr, assemblies, "replay", stderr) == null) return 2;
            string path = pr.GetValue(trace)!;
            var overrides = new List<KeyValuePair<string, string>>();
            foreach (var s in pr.GetValue(sets) ?? [])
            {
                int eq = s.IndexOf('=');
                if (eq <= 0) { stderr.WriteLine($"mthpsim replay: --set {Echo.Quote(s)} is not PATH=VALUE"); return 2; }
                overrides.Add(new(s[..eq], s[(eq + 1)..]));
            }
            if (!SizeText.TryParse(pr.GetValue(memory)!, out long bytes)) { stderr.WriteLine($"mthpsim replay: --memory {Echo.Quote(pr.GetValue(memory)!)} is not a size such as 16G"); return 2; }
            TraceReplay replay;
            Kernel k;
            TruthFile? truth = null;
            try
            {
                if (pr.GetValue(truthOpt) is string tp) truth = TruthFile.Load(tp);
                using var reader = TraceReader.Open(path);
                k = ReplayMachine.Create(reader.Header, [.. truth?.Settings ?? [], .. overrides], pr.GetValue(policy), bytes);
                replay = TraceReplay.Run(k, reader);
            }
            catch (FileNotFoundException e) { stderr.WriteLine($"mthpsim replay: {e.FileName ?? path}: no such file"); return 2; }
            catch (InvalidDataException e) { stderr.WriteLine($"mthpsim replay: {e.Message}"); return 2; }
            catch (TraceFormatException e) { stderr.WriteLine($"mthpsim replay: {e.Message}"); return 2; }
            catch (ReplayException e) { stderr.WriteLine($"mthpsim replay: {path}: {e.Message}"); return 2; }
            var comparison = truth == null ? null : TruthComparison.Compare(replay.Snapshots, truth, (int)k.Geo.PageSize);
            bool within = comparison == null || (comparison.Unmatched.Count == 0 && comparison.Rows.All(x => x.Within(CompareTruth.Tolerance)));
            if (pr.GetValue(json))
            {
                stdout.Write(ReplayReport.Json(path, k, replay, pr.GetValue(truthOpt), comparison));
                return within ? 0 : 1;
            }
            stdout.Write(ReplayReport.Text(path, k, replay, pr.GetValue(vmas)));
            if (truth == null) return 0;
            stdout.WriteLine();
            stdout.Write(CompareTruth.Table($"against the live kernel ({pr.GetValue(truthOpt)})", k, replay, truth, out within));
            return within ? 0 : 1;
        });
        return cmd;
    }
}
