using BenchmarkDotNet.Running;
using Tollgate.Benchmarks.Tokenization;

// Micro-benchmarks of the gateway's own per-request work. Run in Release, e.g.
//   dotnet run -c Release --project bench/Tollgate.Benchmarks -- --filter '*' --job short
// docs/performance.md lists the exact commands behind every published number.
if (args is ["cut-deviation"])
{
    CutDeviationReport.Print(Console.Out);
    return;
}

if (args is ["alloc", ..])
{
    Tollgate.Benchmarks.Pipeline.AllocationProfile.Run(args[1..], Console.Out);
    return;
}

if (args is ["gc-pauses", ..])
{
    Tollgate.Benchmarks.Pipeline.GcPauseReport.Run(args[1..], Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(CutDeviationReport).Assembly).Run(args);
