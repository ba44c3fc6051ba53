using System.Globalization;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// How much the fuzz tests run: a fixed seed and an iteration count sized for the suite, both overridable with
/// <c>TOLLGATE_FUZZ_SEED</c> and <c>TOLLGATE_FUZZ_ITERATIONS</c> to search longer or replay a failure.
/// </summary>
internal static class FuzzSettings
{
    public const string SeedVariable = "TOLLGATE_FUZZ_SEED";
    public const string IterationsVariable = "TOLLGATE_FUZZ_ITERATIONS";

    public static int Seed(int defaultSeed) =>
        int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), CultureInfo.InvariantCulture, out int seed) ? seed : defaultSeed;

    public static int Iterations(int defaultIterations) =>
        int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), CultureInfo.InvariantCulture, out int n) && n > 0 ? n : defaultIterations;
}
