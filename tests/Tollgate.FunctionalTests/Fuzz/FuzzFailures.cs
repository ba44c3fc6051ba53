using System.Collections.Concurrent;
using System.Text;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// Collects the failures of one fuzz run, grouped by the check that failed, and asserts there are none with a
/// message that names the seed (to replay with <c>TOLLGATE_FUZZ_SEED</c>) and a few examples of each check.
/// </summary>
internal sealed class FuzzFailures(string name, int seed, int iterations)
{
    private readonly ConcurrentQueue<(string Check, string Subject, string Detail)> _failures = new();

    public int Count => _failures.Count;

    /// <summary>Records a failed <paramref name="check"/>; <paramref name="subject"/> (e.g. the kind of input) is counted in the report.</summary>
    public void Add(string check, string detail, string subject = "") => _failures.Enqueue((check, subject, detail));

    public void Check(bool condition, string check, string detail, string subject = "")
    {
        if (!condition)
        {
            Add(check, detail, subject);
        }
    }

    /// <summary>Fails the test listing every failed check (with up to three examples each), or passes.</summary>
    public void AssertNone(string? only = null)
    {
        var selected = _failures.Where(f => only is null || f.Check.StartsWith(only, StringComparison.Ordinal)).ToList();
        if (selected.Count == 0)
        {
            return;
        }

        var message = new StringBuilder();
        message.Append(name).Append(": ").Append(selected.Count).Append(" failures; replay with ")
            .Append(FuzzSettings.SeedVariable).Append('=').Append(seed).Append(' ')
            .Append(FuzzSettings.IterationsVariable).Append('=').Append(iterations).AppendLine();
        foreach (var group in selected.GroupBy(f => f.Check).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            message.Append("- ").Append(group.Key).Append(" (").Append(group.Count()).Append("; ")
                .AppendJoin(", ", group.GroupBy(f => f.Subject).OrderByDescending(s => s.Count()).Select(s => $"{s.Key} {s.Count()}")).AppendLine(")");
            foreach (var (_, _, detail) in group.Take(3))
            {
                message.Append("    ").AppendLine(detail);
            }
        }

        Assert.Fail(message.ToString());
    }
}
