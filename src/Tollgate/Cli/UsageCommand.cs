using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Cli;

/// <summary><c>tollgate usage</c>: requests, tokens and cost from the ledger, by tenant, user and model.</summary>
internal static class UsageCommand
{
    public static Command Create()
    {
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant." };
        var user = new Option<string?>("--user") { Description = "Only this user." };
        var since = new Option<string?>("--since") { Description = "Only requests at or after this date/time (UTC), or a duration back from now (24h, 7d)." };
        var command = new Command("usage", "Show requests, tokens and cost from the ledger.") { tenant, user, since, CommonOptions.Json };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            var query = new UsageQuery(parse.GetValue(tenant), parse.GetValue(user), ParseSince(parse.GetValue(since)));
            var rows = await context.Ledger.QueryUsageAsync(query, ct).ConfigureAwait(false);
            Console.Out.WriteLine(parse.GetValue(CommonOptions.Json) ? ToJson(rows) : ToText(rows));
            return ExitCodes.Success;
        });
        return command;
    }

    private static DateTimeOffset? ParseSince(string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (DurationParser.TryParseDuration(value, out var back))
        {
            return TimeProvider.System.GetUtcNow() - back;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new CliUsageException($"--since must be a date (2026-11-01), a date-time, or a duration (24h, 7d): '{value}'.");
    }

    private static string ToText(IReadOnlyList<UsageSummary> rows)
    {
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"{"TENANT",-16} {"USER",-16} {"MODEL",-16} {"REQUESTS",9} {"REFUSED",8} {"INPUT",10} {"CACHED",9} {"OUTPUT",10} {"COST USD",16}"),
        };
        foreach (var r in rows)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{r.Tenant ?? "-",-16} {r.User ?? "-",-16} {r.Model ?? "-",-16} {r.Requests,9} {r.Refused,8} {r.InputTokens,10} {r.CachedInputTokens,9} {r.OutputTokens,10} {Money.FormatDollars(r.CostNanos),16}"));
        }

        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"total: {Saturating.Sum(rows, r => r.Requests)} requests, {Saturating.Sum(rows, r => Saturating.Add(r.InputTokens, r.OutputTokens))} tokens, ${Money.FormatDollars(Saturating.Sum(rows, r => r.CostNanos))}"));
        return string.Join(Environment.NewLine, lines);
    }

    private static string ToJson(IReadOnlyList<UsageSummary> rows)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("rows");
            foreach (var r in rows)
            {
                writer.WriteStartObject();
                writer.WriteString("tenant", r.Tenant);
                writer.WriteString("user", r.User);
                writer.WriteString("model", r.Model);
                writer.WriteNumber("requests", r.Requests);
                writer.WriteNumber("refused", r.Refused);
                writer.WriteNumber("input_tokens", r.InputTokens);
                writer.WriteNumber("cached_input_tokens", r.CachedInputTokens);
                writer.WriteNumber("output_tokens", r.OutputTokens);
                writer.WriteNumber("reasoning_tokens", r.ReasoningTokens);
                writer.WriteNumber("cost_nanousd", r.CostNanos);
                writer.WriteString("cost_usd", Money.FormatDollars(r.CostNanos));
                writer.WriteNumber("estimated_requests", r.EstimatedRequests);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteNumber("total_requests", Saturating.Sum(rows, r => r.Requests));
            writer.WriteNumber("total_cost_nanousd", Saturating.Sum(rows, r => r.CostNanos));
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
