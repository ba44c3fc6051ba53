using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Tollgate.Benchmarks.Pipeline;

/// <summary>
/// The garbage collections in a trace of the runtime's GC events (<c>bench/profile.sh --gc</c>, or
/// <c>dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:4</c>): how many of each generation, how
/// long each paused the process (from the suspension's start to the restart's end), and what the ephemeral
/// collections found alive, by where it was reached from. A request that meets a pause waits for it, so the share of
/// the wall time spent paused is about the share of requests whose latency includes one. Given the gateway's SQLite
/// database as well, it sets the audit records of the traced seconds against the pauses: each record's latency inside
/// the gateway (<c>latency_ms</c>, of which <c>upstream_latency_ms</c> waiting on the upstream), for the requests that
/// met a pause and those that did not, and where the slowest 1 % spent their time.
/// </summary>
internal static class GcPauseReport
{
    // GCMarkWithType's kinds of roots (the runtime's gc_root_kind).
    private static readonly string[] RootKinds = ["stacks", "finalization queue", "handles", "older generations", "sized references", "overflow", "dependent handles", "new finalization queue", "steal"];

    public static void Run(string[] args, TextWriter output)
    {
        if (args.Length is < 1 or > 2 || !args.All(File.Exists))
        {
            output.WriteLine("usage: gc-pauses <trace.nettrace> [<the gateway's tollgate.db>]");
            Environment.ExitCode = 2;
            return;
        }

        var collections = new List<Collection>();
        var started = new Dictionary<int, int>();
        var marked = new Dictionary<int, ulong>();
        double suspendStart = 0, suspendStartUnix = 0, suspendEnd = 0, seconds, fromUnix, toUnix;
        bool forCollection = false;
        int generation = -1, ephemeral = 0;
        long promoted = -1;

        using (var source = new EventPipeEventSource(args[0]))
        {
            source.Clr.GCSuspendEEStart += e =>
            {
                suspendStart = e.TimeStampRelativeMSec;
                suspendStartUnix = UnixMs(e.TimeStamp);
                forCollection = e.Reason is GCSuspendEEReason.SuspendForGC or GCSuspendEEReason.SuspendForGCPrep;
                generation = -1;
                promoted = -1;
            };
            source.Clr.GCSuspendEEStop += e => suspendEnd = e.TimeStampRelativeMSec;
            source.Clr.GCStart += e =>
            {
                generation = e.Depth;
                started[e.Depth] = started.GetValueOrDefault(e.Depth) + 1;
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
                if (forCollection)
                {
                    // A pause with no collection started in it is a background collection's last one (generation 2).
                    collections.Add(new Collection(generation >= 0 ? generation : 2, suspendEnd - suspendStart,
                        e.TimeStampRelativeMSec - suspendStart, promoted, suspendStartUnix));
                    forCollection = false;
                }
            };
            source.Process();
            seconds = source.SessionDuration.TotalSeconds;
            fromUnix = UnixMs(source.SessionStartTime);
            toUnix = UnixMs(source.SessionEndTime);
        }

        if (collections.Count == 0)
        {
            output.WriteLine("no garbage collections in the trace");
            return;
        }

        var c = CultureInfo.InvariantCulture;
        int total = started.Values.Sum();
        output.WriteLine(string.Create(c, $"{total} collections in {seconds:F1} s ({total / seconds:F1} per second), {collections.Count} pauses"));
        output.WriteLine();
        output.WriteLine("| generation | collections | pauses | pause p50 | p90 | max | mean | suspending p50 | promoted, mean |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in collections.GroupBy(x => x.Generation).OrderBy(g => g.Key))
        {
            double[] pauses = [.. group.Select(x => x.PauseMs).Order()];
            double[] suspends = [.. group.Select(x => x.SuspendMs).Order()];
            var known = group.Where(x => x.Promoted >= 0).ToList();
            string promotedMean = known.Count > 0 ? string.Create(c, $"{known.Average(x => x.Promoted) / 1024:F0} KB") : "—";
            output.WriteLine(string.Create(c,
                $"| {group.Key} | {started.GetValueOrDefault(group.Key)} | {pauses.Length} | {At(pauses, 0.5):F2} ms | {At(pauses, 0.9):F2} ms | {pauses[^1]:F2} ms | {pauses.Average():F2} ms | {At(suspends, 0.5):F3} ms | {promotedMean} |"));
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

        if (args.Length == 2)
        {
            output.WriteLine();
            RequestsAgainstPauses(args[1], collections, fromUnix, toUnix, output);
        }
    }

    // The audit records of the traced seconds. A record's ts is its start cut to the millisecond, latency_ms its time in
    // the gateway, so a request is taken to have met a pause when [ts + 0.5, ts + 0.5 + latency_ms) overlaps one; the
    // trace's clock is set against the wall clock to about a millisecond, so the widest window that could overlap,
    // [ts - 1, ts + latency_ms + 2), is given too.
    private static void RequestsAgainstPauses(string database, List<Collection> collections, double fromUnix, double toUnix, TextWriter output)
    {
        var pauses = collections.Select(x => (Start: x.StartUnixMs, End: x.StartUnixMs + x.PauseMs)).OrderBy(x => x.Start).ToArray();
        var requests = new List<(double Latency, double Upstream, bool MetPause)>();
        int couldHaveMet = 0;
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT ts, latency_ms, upstream_latency_ms FROM audit WHERE ts BETWEEN $from AND $to";
            command.Parameters.AddWithValue("$from", (long)Math.Ceiling(fromUnix));
            command.Parameters.AddWithValue("$to", (long)toUnix);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                double start = reader.GetInt64(0), latency = reader.GetDouble(1);
                requests.Add((latency, reader.GetDouble(2), Overlaps(pauses, start + 0.5, start + 0.5 + latency)));
                couldHaveMet += Overlaps(pauses, start - 1, start + latency + 2) ? 1 : 0;
            }
        }

        if (requests.Count == 0)
        {
            output.WriteLine("no audit records in the traced seconds");
            return;
        }

        var c = CultureInfo.InvariantCulture;
        double[] all = [.. requests.Select(r => r.Latency).Order()];
        double slowest = At(all, 0.99);
        var slow = requests.Where(r => r.Latency >= slowest).ToList();
        output.WriteLine(string.Create(c, $"The ledger's {requests.Count} requests of those seconds, their time inside the gateway (latency_ms):"));
        output.WriteLine();
        output.WriteLine("| requests | count | p50 | p99 |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, group) in new[] { ("all", requests), ("met no pause", requests.Where(r => !r.MetPause).ToList()), ("met a pause", requests.Where(r => r.MetPause).ToList()) })
        {
            if (group.Count > 0)
            {
                double[] sorted = [.. group.Select(r => r.Latency).Order()];
                output.WriteLine(string.Create(c, $"| {name} | {group.Count} | {At(sorted, 0.5):F3} ms | {At(sorted, 0.99):F3} ms |"));
            }
        }

        output.WriteLine();
        output.WriteLine(string.Create(c,
            $"The slowest 1 % (at least {slowest:F2} ms, {slow.Count} requests): {100.0 * slow.Count(r => r.MetPause) / slow.Count:F0} % met a pause (of all requests: {100.0 * requests.Count(r => r.MetPause) / requests.Count:F1} %, and at most {100.0 * couldHaveMet / requests.Count:F1} % with the widest window); " +
            $"median time waiting on the upstream {Median(slow.Select(r => r.Upstream))} ms, in the gateway's own work {Median(slow.Select(r => r.Latency - r.Upstream))} ms."));
        output.WriteLine();
        output.WriteLine(string.Create(c,
            $"Of all requests: median time waiting on the upstream {Median(requests.Select(r => r.Upstream))} ms, in the gateway's own work {Median(requests.Select(r => r.Latency - r.Upstream))} ms."));

        string Median(IEnumerable<double> values)
        {
            double[] sorted = [.. values.Order()];
            return At(sorted, 0.5).ToString("F3", c);
        }
    }

    private static bool Overlaps((double Start, double End)[] pauses, double from, double to)
    {
        // The last pause starting before 'to', and the few before it (pauses are milliseconds apart, never nested).
        int i = Array.BinarySearch(pauses, (to, double.MaxValue), Comparer<(double Start, double End)>.Create((a, b) => a.Start.CompareTo(b.Start)));
        i = i < 0 ? ~i : i;
        for (int j = Math.Max(0, i - 3); j < Math.Min(pauses.Length, i + 1); j++)
        {
            if (pauses[j].Start < to && pauses[j].End > from)
            {
                return true;
            }
        }

        return false;
    }

    private static double UnixMs(DateTime time) => (time.ToUniversalTime() - DateTime.UnixEpoch).TotalMilliseconds;

    private static double At(double[] sorted, double quantile) => sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * quantile))];

    private readonly record struct Collection(int Generation, double SuspendMs, double PauseMs, long Promoted, double StartUnixMs);
}
