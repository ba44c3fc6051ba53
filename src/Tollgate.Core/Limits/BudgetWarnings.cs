using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>Raises a budget warning the first time a scope's spend crosses the plan's threshold in a window.</summary>
public sealed class BudgetWarnings
{
    private readonly Lock _lock = new();
    private readonly HashSet<(string Scope, Window Window, DateTimeOffset Period)> _raised = [];

    /// <summary>The warning to send with an admission whose statuses are <paramref name="statuses"/>, or null.</summary>
    public string? Check(IReadOnlyList<LimitStatus> statuses, int percent)
    {
        if (percent <= 0)
        {
            return null;
        }

        List<string>? messages = null;
        foreach (var status in statuses)
        {
            var check = status.Check;
            long used = check.Limit - status.Remaining;
            if (check.Metric != Metric.Spend || (Int128)used * 100 < (Int128)check.Limit * percent)
            {
                continue;
            }

            var period = status.ResetsAt;
            lock (_lock)
            {
                if (!_raised.Add((check.Scope.Id, check.Window, period)))
                {
                    continue;
                }

                if (_raised.Count > 100_000)
                {
                    _raised.Clear();
                }
            }

            (messages ??= []).Add($"{check.Scope.Display}: {used * 100 / check.Limit}% of the {LimitText.Describe(check)} of ${Money.FormatDollars(check.Limit)} used");
        }

        return messages is null ? null : string.Join("; ", messages);
    }
}
