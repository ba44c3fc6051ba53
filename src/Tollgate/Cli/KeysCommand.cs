using System.CommandLine;
using System.Text.Json;
using Tollgate.Identity;

namespace Tollgate.Cli;

/// <summary><c>tollgate keys …</c>: create, import, list, show, revoke, rotate, update. Works while <c>serve</c> runs.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage API keys (stored hashed; a key is shown once, when created or rotated).");
        keys.Subcommands.Add(CreateKey());
        keys.Subcommands.Add(Import());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Show());
        keys.Subcommands.Add(Revoke());
        keys.Subcommands.Add(Rotate());
        keys.Subcommands.Add(Update());
        return keys;
    }

    private static Command CreateKey()
    {
        var tenant = new Option<string>("--tenant") { Description = "Tenant the key belongs to.", Required = true };
        var user = new Option<string>("--user") { Description = "User the key belongs to.", Required = true };
        var plan = new Option<string>("--plan") { Description = "Plan whose rules apply.", Required = true };
        var expires = new Option<string?>("--expires") { Description = "Expiry: a duration (30d, 12h) or a date (2027-01-31)." };
        var name = new Option<string?>("--name") { Description = "A name to recognise the key by." };
        var limits = LimitOption();
        var command = new Command("create", "Create a key and print it (once).") { tenant, user, plan, expires, name, limits, CommonOptions.Json };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            string planName = parse.GetValue(plan)!;
            context.RequirePlan(planName);
            var overrides = KeyLimits.ParsePairs(parse.GetValue(limits) ?? [], "--limit");
            var expiry = parse.GetValue(expires) is { } e ? DurationParser.ParseExpiry(e, TimeProvider.System.GetUtcNow()) : (DateTimeOffset?)null;
            var (key, secret) = await context.Issuer.CreateAsync(
                new ApiKeyIssuer.Request(Identifier(parse.GetValue(tenant)!, "--tenant"), Identifier(parse.GetValue(user)!, "--user"), planName, expiry,
                    parse.GetValue(name), overrides), ct)
                .ConfigureAwait(false);
            if (parse.GetValue(CommonOptions.Json))
            {
                Console.Out.WriteLine(KeyJson.ToJson([(key, secret)], array: false));
            }
            else
            {
                string limitText = overrides.Count > 0 ? $", limits {KeyLimits.Format(overrides, ", ")}" : "";
                Console.Out.WriteLine($"Created {key.Id} (tenant {key.Tenant}, user {key.User}, plan {key.Plan}{limitText}).");
                Console.Out.WriteLine($"Key (shown once, store it now): {secret}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Import()
    {
        var file = new Argument<FileInfo>("file")
        {
            Description = "JSON array of {\"tenant\",\"user\",\"plan\",\"name\"?,\"expires\"?,\"limits\"?: {\"RequestsPerMinute\": \"10\"}}; '-' reads standard input.",
        };
        var command = new Command("import", "Create many keys at once (load tests); prints a JSON array with each id and key.") { file };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            var path = parse.GetValue(file)!;
            string text = path.Name == "-" ? await Console.In.ReadToEndAsync(ct).ConfigureAwait(false)
                : path.Exists ? await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false)
                : throw new CliUsageException($"File not found: {path.FullName}");
            var requests = ParseImport(text, context);
            var created = await context.Issuer.CreateManyAsync(requests, ct).ConfigureAwait(false);
            Console.Out.WriteLine(KeyJson.ToJson(created.Select(c => (c.Key, (string?)c.Secret)), array: true));
            return ExitCodes.Success;
        });
        return command;
    }

    private static List<ApiKeyIssuer.Request> ParseImport(string text, CliContext context)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"The import file is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new CliUsageException("The import file must hold a JSON array of key objects.");
            }

            var now = TimeProvider.System.GetUtcNow();
            var list = new List<ApiKeyIssuer.Request>();
            int index = 0;
            foreach (var item in document.RootElement.EnumerateArray())
            {
                string Field(string name, bool required) =>
                    item.ValueKind == JsonValueKind.Object && item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
                    : required ? throw new CliUsageException($"Item {index}: '{name}' must be a string.") : "";
                string plan = Field("plan", true);
                context.RequirePlan(plan);
                string expires = Field("expires", false);
                string name = Field("name", false);
                list.Add(new ApiKeyIssuer.Request(Identifier(Field("tenant", true), $"item {index} tenant"), Identifier(Field("user", true), $"item {index} user"), plan,
                    expires.Length > 0 ? DurationParser.ParseExpiry(expires, now) : null, name.Length > 0 ? name : null, ImportLimits(item, index)));
                index++;
            }

            return list;
        }
    }

    private static Dictionary<string, string>? ImportLimits(JsonElement item, int index)
    {
        if (!item.TryGetProperty("limits", out var limits) || limits.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string source = $"Item {index} limits";
        if (limits.ValueKind != JsonValueKind.Object)
        {
            throw new CliUsageException($"{source} must be an object of NAME: VALUE, e.g. {{\"RequestsPerMinute\": \"10\"}}.");
        }

        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in limits.EnumerateObject())
        {
            // Numbers are taken as written ("10", 2.5), so that a budget keeps its exact decimal digits.
            string value = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Number => property.Value.GetRawText(),
                _ => throw new CliUsageException($"{source}: {property.Name} must be a string or a number."),
            };
            KeyLimits.Add(overrides, property.Name, value, source);
        }

        return overrides;
    }

    private static Command List()
    {
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant's keys." };
        var command = new Command("list", "List keys (never key material).") { tenant, CommonOptions.Json };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            var list = await context.Keys.ListAsync(parse.GetValue(tenant), ct).ConfigureAwait(false);
            if (parse.GetValue(CommonOptions.Json))
            {
                Console.Out.WriteLine(KeyJson.ToJson(list.Select(k => (k, (string?)null)), array: true));
            }
            else
            {
                var now = TimeProvider.System.GetUtcNow();
                foreach (var key in list)
                {
                    Console.Out.WriteLine(KeyJson.Text(key, now));
                }

                Console.Out.WriteLine($"{list.Count} key(s)");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show()
    {
        var id = IdArgument();
        var command = new Command("show", "Show one key (never key material).") { id, CommonOptions.Json };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            var key = await context.Keys.GetAsync(parse.GetValue(id)!, ct).ConfigureAwait(false) ?? throw NotFound(parse.GetValue(id)!);
            Console.Out.WriteLine(parse.GetValue(CommonOptions.Json) ? KeyJson.ToJson([(key, null)], array: false) : KeyJson.Text(key, TimeProvider.System.GetUtcNow()));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Revoke()
    {
        var id = IdArgument();
        var command = new Command("revoke", "Revoke a key; it is refused from the very next request.") { id };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            string keyId = parse.GetValue(id)!;
            if (!await context.Keys.RevokeAsync(keyId, TimeProvider.System.GetUtcNow(), ct).ConfigureAwait(false))
            {
                throw NotFound(keyId);
            }

            Console.Out.WriteLine($"Revoked {keyId}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Rotate()
    {
        var id = IdArgument();
        var grace = new Option<string?>("--grace") { Description = "How long the old secret keeps working (e.g. 1h, 7d). Default: it stops at once." };
        var command = new Command("rotate", "Give a key a new secret (same id, tenant, plan); prints it once.") { id, grace, CommonOptions.Json };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            string keyId = parse.GetValue(id)!;
            var period = TimeSpan.Zero;
            if (parse.GetValue(grace) is { } g && (!DurationParser.TryParseDuration(g, out period) || period < TimeSpan.Zero))
            {
                throw new CliUsageException($"--grace must be a duration such as 1h or 7d: '{g}'.");
            }

            string secret = await context.Issuer.RotateAsync(keyId, period, ct).ConfigureAwait(false)
                ?? throw new CliUsageException($"Key {keyId} does not exist or is revoked.");
            var key = (await context.Keys.GetAsync(keyId, ct).ConfigureAwait(false))!;
            if (parse.GetValue(CommonOptions.Json))
            {
                Console.Out.WriteLine(KeyJson.ToJson([(key, secret)], array: false));
            }
            else
            {
                Console.Out.WriteLine($"Rotated {keyId}; the old secret {(period > TimeSpan.Zero ? $"works until {TimeProvider.System.GetUtcNow() + period:u}" : "no longer works")}.");
                Console.Out.WriteLine($"New key (shown once, store it now): {secret}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Update()
    {
        var id = IdArgument();
        var plan = new Option<string?>("--plan") { Description = "The new plan." };
        var limits = LimitOption();
        var clear = new Option<bool>("--clear-limits") { Description = "Remove the key's limit overrides (before applying any --limit)." };
        var command = new Command("update", "Change a key's plan and/or limit overrides; applies from the next request.") { id, plan, limits, clear };
        command.SetAction(async (parse, ct) =>
        {
            await using var context = await CliContext.OpenAsync(parse, ct).ConfigureAwait(false);
            string keyId = parse.GetValue(id)!;
            string? planName = parse.GetValue(plan);
            bool clearLimits = parse.GetValue(clear);
            var changes = KeyLimits.ParsePairs(parse.GetValue(limits) ?? [], "--limit");
            if (planName is null && changes.Count == 0 && !clearLimits)
            {
                throw new CliUsageException("Nothing to update: give --plan, --limit NAME=VALUE or --clear-limits.");
            }

            if (planName is not null)
            {
                context.RequirePlan(planName);
            }

            var key = await context.Keys.GetAsync(keyId, ct).ConfigureAwait(false) ?? throw NotFound(keyId);
            if (planName is not null && !await context.Keys.UpdatePlanAsync(keyId, planName, ct).ConfigureAwait(false))
            {
                throw NotFound(keyId);
            }

            var done = new List<string>();
            if (planName is not null)
            {
                done.Add($"plan {planName}");
            }

            if (changes.Count > 0 || clearLimits)
            {
                // --limit sets the names it gives and keeps the others; --clear-limits starts from none.
                var overrides = KeyLimits.Merge(clearLimits ? null : key.Overrides, changes);
                if (!await context.Keys.UpdateOverridesAsync(keyId, overrides, ct).ConfigureAwait(false))
                {
                    throw NotFound(keyId);
                }

                done.Add(overrides.Count > 0 ? $"limits {KeyLimits.Format(overrides, ", ")}" : "no limit overrides");
            }

            Console.Out.WriteLine($"Updated {keyId}: {string.Join("; ", done)}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Option<string[]> LimitOption() => new("--limit")
    {
        Description = "Override a plan setting for this key, NAME=VALUE (repeatable), e.g. RequestsPerMinute=10, BudgetPerDay=2.5. "
            + $"Names: {string.Join(", ", KeyLimits.Names)}.",
        HelpName = "NAME=VALUE",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static Argument<string> IdArgument() => new("id") { Description = "The key id (key_…)." };

    private static CliUsageException NotFound(string id) => new($"No key with id '{id}'.");

    private static string Identifier(string value, string what) =>
        value.Length is > 0 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@')
            ? value
            : throw new CliUsageException($"{what} must be 1-128 characters of letters, digits, '-', '_', '.', '@': '{value}'.");
}
