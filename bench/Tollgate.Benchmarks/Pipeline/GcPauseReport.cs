using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Tollgate.Benchmarks.Pipeline;

/// <summary>
/// The garbage collections in a trace of the runtime's GC events (<c>bench/profile.sh --gc</c>, or
/// <c>dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:4</c>): how many of each generation, how
/// long each paused the process (from the suspension's start to the restart's end), and what the ephemeral
/// collections found alive, by where it was reached from. A request that meets a pause waits for it, so the share of
/// the wall time spent paused is about the share of requests whose latency includes one.
/// </summary>
internal static class GcPauseReport
{
    // GCMarkWithType's kinds of roots (the runtime's gc_root_kind).
    private static readonly string[] RootKinds = ["stacks", "finalization queue", "handles", "older generations", "sized references", "overflow", "dependent handles", "new finalization queue", "steal"];

    public static void Run(string[] args, TextWriter output)
    {
        if (args.Length != 1 || !File.Exists(args[0]))
        {
            output.WriteLine("usage: gc-pauses <trace.nettrace>");
            return;
        }

        var collections = new List<Collection>();
        var marked = new Dictionary<int, ulong>();
        double suspendStart = 0, suspendEnd = 0, first = double.NaN, last = 0;
        int generation = -1, ephemeral = 0;
        long promoted = 0;

        using (var source = new EventPipeEventSource(args[0]))
        {
            source.Clr.GCSuspendEEStart += e =>
            {
                suspendStart = e.TimeStampRelativeMSec;
                first = double.IsNaN(first) ? suspendStart : first;
            };
            source.Clr.GCSuspendEEStop += e => suspendEnd = e.TimeStampRelativeMSec;
            source.Clr.GCStart += e =>
            {
                generation = e.Depth;
                ephemeral += e.Depth < 2 ? 1 : 0;
            };
            source.Clr.GCMarkWithType += e =>
            {
                if (generation is 0 or 1)
                {
                    marked[e.Type] = marked.GetValueOrDefault(e.Type) + (ulong)e.Promoted;
                }
            };
            source.Clr.GCHeapStats += e => promoted = e.TotalPromotedSize0 + e.TotalPromotedSize1 + e.TotalPromotedSize2;
            source.Clr.GCRestartEEStop += e =>
            {
                last = e.TimeStampRelativeMSec;
                if (generation >= 0)
                {
                    // A restart without a collection (a suspension for something else) is not a pause of the collector.
                    collections.Add(new Collection(generation, suspendEnd - suspendStart, last - suspendStart, promoted));
                    generation = -1;
                }
            };
            source.Process();
        }

        if (collections.Count == 0)
        {
            output.WriteLine("no garbage collections in the trace");
            return;
        }

        double seconds = (last - first) / 1000;
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"{collections.Count} collections in {seconds:F1} s ({collections.Count / seconds:F1} per second)"));
        output.WriteLine();
        output.WriteLine("| generation | collections | pause p50 | p90 | max | mean | suspending p50 | promoted, mean |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in collections.GroupBy(x => x.Generation).OrderBy(g => g.Key))
        {
            double[] pauses = [.. group.Select(x => x.PauseMs).Order()];
            double[] suspends = [.. group.Select(x => x.SuspendMs).Order()];
            output.WriteLine(string.Create(c,
                $"| {group.Key} | {pauses.Length} | {At(pauses, 0.5):F2} ms | {At(pauses, 0.9):F2} ms | {pauses[^1]:F2} ms | {pauses.Average():F2} ms | {At(suspends, 0.5):F3} ms | {group.Average(x => x.Promoted) / 1024:F0} KB |"));
        }

        double paused = collections.Sum(x => x.PauseMs);
        output.WriteLine();
        output.WriteLine(string.Create(c, $"Paused {paused:F0} ms in all: {100 * paused / 1000 / seconds:F2} % of the wall time."));
        if (ephemeral > 0 && marked.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Found alive by generation 0 and 1 collections, per collection, by where it was reached from:");
            foreach (var (kind, bytes) in marked.Where(p => p.Value > 0).OrderByDescending(p => p.Value))
            {
                string name = kind >= 0 && kind < RootKinds.Length ? RootKinds[kind] : kind.ToString(c);
                output.WriteLine(string.Create(c, $"- {name}: {bytes / 1024.0 / ephemeral:F0} KB"));
            }
        }
    }

    private static double At(double[] sorted, double quantile) => sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * quantile))];

    private readonly record struct Collection(int Generation, double SuspendMs, double PauseMs, long Promoted);
}
