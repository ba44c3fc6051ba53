using System.Globalization;
using System.Text;

namespace Tollgate.Core.Tests.Validation;

/// <summary>
/// Legitimate and hostile inputs for <c>RepetitionDetector</c>: realistic structured data generated with fixed
/// seeds, prose and a prompt from <c>Samples/</c>, and this repository's own source files.
/// </summary>
internal static class RepetitionCorpus
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly string[] FirstNames = ["Anna", "Ben", "Chloé", "David", "Emre", "Fatima", "Günter", "Hiro", "Ines", "Jonas", "Kira", "Lukas", "Mei", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tariq"];
    private static readonly string[] LastNames = ["Schmidt", "Okafor", "Nguyen", "Martin", "Kowalski", "Tanaka", "García", "Müller", "Rossi", "Johansson", "Silva", "Yilmaz", "Dubois", "Novak", "Haddad"];
    private static readonly string[] Cities = ["Berlin", "Lagos", "Hanoi", "Lyon", "Kraków", "Osaka", "Sevilla", "Hamburg", "Milano", "Uppsala", "Porto", "Izmir"];

    public static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Validation", "Samples", name));

    /// <summary>The repository root: the nearest directory above the test assembly that holds <c>Tollgate.slnx</c>.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tollgate.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Tollgate.slnx not found above " + AppContext.BaseDirectory);
    }

    public static string RepositoryFile(string relativePath) => File.ReadAllText(Path.Combine(RepositoryRoot(), relativePath));

    /// <summary>Log lines with increasing timestamps, random request ids, five message shapes.</summary>
    public static string Logs(int lines)
    {
        var random = new Random(7);
        var text = new StringBuilder();
        var time = new DateTimeOffset(2025, 3, 14, 9, 0, 0, TimeSpan.Zero);
        string[] paths = ["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/healthz", "/v1/responses"];
        string[] models = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "sim-mini"];
        for (int i = 0; i < lines; i++)
        {
            time = time.AddMilliseconds(random.Next(1, 900));
            string ts = time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", Invariant);
            string req = random.NextInt64().ToString("x16", Invariant)[..12];
            string line = random.Next(20) switch
            {
                < 14 => $"{ts} INFO  Tollgate.Proxy[{random.Next(1, 4)}] req={req} POST {paths[random.Next(paths.Length)]} model={models[random.Next(models.Length)]} key=key_{random.Next(1, 300):D4} status=200 tokens_in={random.Next(5, 4000)} tokens_out={random.Next(1, 2000)} duration_ms={random.Next(40, 9000)}",
                < 17 => $"{ts} DEBUG Tollgate.Limits[7] req={req} bucket=tenant:{random.Next(1, 40)} remaining={random.Next(0, 100000)} reset_in={random.Next(0, 60)}s",
                < 19 => $"{ts} WARN  Tollgate.Upstream[12] req={req} upstream=openai retry={random.Next(1, 4)} after {random.Next(100, 3000)}ms: HTTP 429 Too Many Requests",
                _ => $"{ts} ERROR Tollgate.Ledger[21] req={req} write failed after {random.Next(1, 5)} attempts: database is locked (SQLITE_BUSY) batch={random.Next(1, 512)}",
            };
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    public static string Csv(int rows)
    {
        var random = new Random(11);
        var text = new StringBuilder("id,first_name,last_name,email,city,signup_date,plan,monthly_spend\n");
        string[] plans = ["free", "basic", "pro", "enterprise"];
        for (int i = 0; i < rows; i++)
        {
            string first = FirstNames[random.Next(FirstNames.Length)], last = LastNames[random.Next(LastNames.Length)];
            text.Append(Invariant, $"{10000 + i},{first},{last},{first}.{last}{random.Next(1, 99)}@example.com,{Cities[random.Next(Cities.Length)]},2024-{random.Next(1, 13):D2}-{random.Next(1, 29):D2},{plans[random.Next(plans.Length)]},{random.Next(0, 50000) / 100.0:F2}\n");
        }

        return text.ToString();
    }

    /// <summary>An indented JSON array of product objects that share their keys and most of their values.</summary>
    public static string JsonArray(int items)
    {
        var random = new Random(13);
        var text = new StringBuilder("[\n");
        string[] categories = ["tools", "garden", "kitchen", "office"];
        string[] warehouses = ["eu-west-1", "eu-central-1", "us-east-1"];
        for (int i = 0; i < items; i++)
        {
            text.Append(Invariant, $"  {{\n    \"id\": {1000 + i},\n    \"sku\": \"SKU-{random.Next(0, 999999):D6}\",\n    \"name\": \"{Cities[random.Next(Cities.Length)]} {categories[random.Next(categories.Length)]} set {random.Next(1, 50)}\",\n");
            text.Append(Invariant, $"    \"category\": \"{categories[random.Next(categories.Length)]}\",\n    \"price\": {random.Next(100, 99999) / 100.0:F2},\n    \"inStock\": {(random.Next(3) > 0 ? "true" : "false")},\n");
            text.Append(Invariant, $"    \"tags\": [\"{categories[random.Next(categories.Length)]}\", \"new\"],\n    \"warehouse\": \"{warehouses[random.Next(warehouses.Length)]}\",\n    \"active\": true\n  }}{(i + 1 < items ? "," : "")}\n");
        }

        return text.Append("]\n").ToString();
    }

    /// <summary>Minified JSON objects whose only varying fields are an id and a name.</summary>
    public static string CompactJsonArray(int items)
    {
        var random = new Random(17);
        var text = new StringBuilder("[");
        for (int i = 0; i < items; i++)
        {
            text.Append(Invariant, $"{{\"id\":{i + 1},\"type\":\"user\",\"status\":\"active\",\"role\":\"member\",\"verified\":true,\"locale\":\"en-US\",\"name\":\"{FirstNames[random.Next(FirstNames.Length)]} {LastNames[random.Next(LastNames.Length)]}\"}},");
        }

        return text.Append(']').ToString();
    }

    /// <summary>The most redundant legitimate input of the corpus: deeply nested, identical configs that differ by name and size.</summary>
    public static string NestedConfigJson(int items)
    {
        var random = new Random(23);
        var text = new StringBuilder("{\n  \"data\": {\n    \"clusters\": [\n");
        for (int i = 0; i < items; i++)
        {
            text.Append(Invariant, $"      {{\n        \"name\": \"cluster-{i}\",\n        \"spec\": {{\n          \"nodes\": {{\n            \"pool\": {{\n");
            text.Append(Invariant, $"              \"size\": {random.Next(1, 9)},\n              \"machineType\": \"e2-standard-4\",\n              \"autoscaling\": {{\n");
            text.Append("                \"enabled\": true,\n                \"min\": 1,\n                \"max\": 10\n              }\n            }\n          }\n        }\n");
            text.Append(i + 1 < items ? "      },\n" : "      }\n");
        }

        return text.Append("    ]\n  }\n}\n").ToString();
    }

    public static string MarkdownTable(int rows)
    {
        var random = new Random(19);
        var text = new StringBuilder("| # | Test | Owner | Duration (ms) | Result |\n|---|------|-------|--------------:|--------|\n");
        string[] areas = ["Limits", "Budgets", "Ledger", "Proxy", "Keys", "Config"];
        for (int i = 1; i <= rows; i++)
        {
            text.Append(Invariant, $"| {i} | {areas[random.Next(areas.Length)]}Tests.Case{random.Next(1, 80)} | {FirstNames[random.Next(FirstNames.Length)]} | {random.Next(1, 2500)} | {(random.Next(20) == 0 ? "failed" : "passed")} |\n");
        }

        return text.ToString();
    }

    /// <summary>Copies of <paramref name="phrase"/> separated by one to three random whitespace characters, in random letter case.</summary>
    public static string Jittered(string phrase, int copies)
    {
        var random = new Random(29);
        var text = new StringBuilder();
        string[] gaps = [" ", "  ", "\n", "\t", " \n", "   "];
        for (int i = 0; i < copies; i++)
        {
            foreach (char c in phrase)
            {
                text.Append(random.Next(2) == 0 ? char.ToUpperInvariant(c) : c);
            }

            text.Append(gaps[random.Next(gaps.Length)]);
        }

        return text.ToString();
    }

    /// <summary>Words drawn at random from a twenty-word vocabulary: never periodic, never diverse.</summary>
    public static string ShuffledVocabulary(int words)
    {
        var random = new Random(3);
        string[] vocabulary = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "zeta", "eta", "theta", "iota", "lambda", "mu", "nu", "xi", "pi", "rho", "tau", "phi", "chi"];
        var text = new StringBuilder();
        for (int i = 0; i < words; i++)
        {
            text.Append(vocabulary[random.Next(vocabulary.Length)]).Append(' ');
        }

        return text.ToString();
    }

    /// <summary>Pseudo-random lower-case words: diverse text of any size.</summary>
    public static string RandomWords(int length)
    {
        var random = new Random(31);
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            int wordLength = random.Next(2, 10);
            for (int i = 0; i < wordLength; i++)
            {
                text.Append((char)('a' + random.Next(26)));
            }

            text.Append(' ');
        }

        return text.ToString(0, length);
    }

    public static string Repeat(string unit, int copies) => new StringBuilder(unit.Length * copies).Insert(0, unit, copies).ToString();
}
