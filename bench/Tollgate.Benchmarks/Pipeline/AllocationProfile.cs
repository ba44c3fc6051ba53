using System.Diagnostics.Tracing;
using System.Globalization;

namespace Tollgate.Benchmarks.Pipeline;

/// <summary>
/// What the in-process pipeline allocates, by type: runs <see cref="HostPipelineBenchmarks"/>'s requests with a
/// listener on the runtime's allocation samples (<c>GCAllocationTick</c>, one per ~100 KB allocated, naming the type of
/// the object that crossed the mark) and prints the exact bytes allocated per request and the sampled share of each
/// type. A profile to find what to remove, not a benchmark: the numbers to publish come from BenchmarkDotNet.
/// <code>dotnet run -c Release --project bench/Tollgate.Benchmarks -- alloc [chat|stream] [requests]</code>
/// </summary>
public static class AllocationProfile
{
    /// <summary>Runs the profile and writes its report.</summary>
    public static void Run(string[] args, TextWriter output)
    {
        bool stream = args.Length > 0 && args[0] == "stream";
        int requests = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
        using var benchmarks = new HostPipelineBenchmarks();
        benchmarks.Setup();
        Func<Task> request = stream ? benchmarks.StreamingChatRequest : benchmarks.ChatRequest;
        for (int i = 0; i < 20_000; i++)
        {
            request().GetAwaiter().GetResult();
        }

        using var listener = new AllocationListener();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < requests; i++)
        {
            request().GetAwaiter().GetResult();
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        listener.Dispose();
        benchmarks.Cleanup();

        var byType = listener.Snapshot();
        long sampled = byType.Values.Sum();
        output.WriteLine($"{(stream ? "streamed" : "plain")} chat request, {requests:N0} requests: {allocated / (double)requests:N0} bytes allocated per request (exact)");
        output.WriteLine($"{byType.Values.Count:N0} types in {sampled / 1024.0 / 1024.0:N0} MiB of samples; share of the samples, and bytes per request it stands for:");
        foreach (var (type, bytes) in byType.OrderByDescending(p => p.Value).Take(40))
        {
            double share = bytes / (double)sampled;
            output.WriteLine($"{share,7:P1} {share * allocated / requests,8:N0}  {type}");
        }
    }

    private sealed class AllocationListener : EventListener
    {
        private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public Dictionary<string, long> Snapshot()
        {
            lock (_lock)
            {
                return new Dictionary<string, long>(_bytes, StringComparer.Ordinal);
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick is verbose
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null || e.PayloadNames is null)
            {
                return;
            }

            string type = "?";
            long amount = 0;
            for (int i = 0; i < e.PayloadNames.Count; i++)
            {
                switch (e.PayloadNames[i])
                {
                    case "TypeName":
                        type = e.Payload[i] as string ?? "?";
                        break;
                    case "AllocationAmount64":
                        amount = Convert.ToInt64(e.Payload[i], CultureInfo.InvariantCulture);
                        break;
                }
            }

            lock (_lock)
            {
                _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
            }
        }
    }
}
