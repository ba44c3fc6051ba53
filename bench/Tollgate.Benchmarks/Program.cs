using BenchmarkDotNet.Running;

// Micro-benchmarks of the gateway's own per-request work. Run in Release, e.g.
//   dotnet run -c Release --project bench/Tollgate.Benchmarks -- --filter '*' --job short
// docs/performance.md lists the exact commands behind every published number.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
