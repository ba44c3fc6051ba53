using System.Globalization;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Configuration;

/// <summary>
/// Validates the settings of hosted tools (Responses API): a plan's <see cref="PlanOptions.HostedTools"/> and
/// <see cref="PlanOptions.MaxToolCalls"/>, and a model's per-call fees (<see cref="PriceOptions.ToolCalls"/>).
/// </summary>
internal static class HostedToolsValidator
{
    /// <summary>The most hosted tool calls a plan may allow per request.</summary>
    public const int MaxToolCallsLimit = 1000;

    /// <summary>The highest fee per call, in dollars.</summary>
    public const decimal MaxFee = 1000m;

    public static void ValidatePlan(string path, PlanOptions plan, List<ConfigError> errors)
    {
        for (int i = 0; i < plan.HostedTools.Count; i++)
        {
            ToolType($"{path}:HostedTools:{i}", plan.HostedTools[i], errors);
        }

        if (plan.MaxToolCalls is < 1 or > MaxToolCallsLimit)
        {
            errors.Add(new ConfigError($"{path}:MaxToolCalls", $"must be between 1 and {MaxToolCallsLimit}", plan.MaxToolCalls.ToString(CultureInfo.InvariantCulture)));
        }
    }

    public static void ValidateFees(string path, PriceOptions prices, List<ConfigError> errors)
    {
        foreach (var (tool, fee) in prices.ToolCalls)
        {
            string at = $"{path}:Prices:ToolCalls:{tool}";
            ToolType(at, tool, errors);
            if (fee < 0 || fee > MaxFee || !Money.TryGetMicrosPerMillion(fee, out _))
            {
                errors.Add(new ConfigError(at,
                    $"must be a dollar amount per call between 0 and {MaxFee.ToString(CultureInfo.InvariantCulture)} with at most 6 decimal places (Tollgate charges exactly in integer units)",
                    fee.ToString(CultureInfo.InvariantCulture)));
            }
        }
    }

    // A hosted tool's type as the Responses API names it: lower-case letters, digits and '_', not one of the caller's own.
    private static void ToolType(string path, string type, List<ConfigError> errors)
    {
        if (string.IsNullOrEmpty(type) || type.Length > 64 || !type.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            errors.Add(new ConfigError(path, "must be a hosted tool type such as web_search or file_search (lower-case letters, digits and '_')", type));
        }
        else if (ResponsesTools.IsCallerTool(type) || type == ResponsesTools.Namespace)
        {
            errors.Add(new ConfigError(path, "is a tool the caller runs itself, always allowed and never charged per call; list only hosted tools", type));
        }
    }
}
