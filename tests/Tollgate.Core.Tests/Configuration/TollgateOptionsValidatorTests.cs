using Tollgate.Configuration;

namespace Tollgate.Core.Tests.Configuration;

public sealed class TollgateOptionsValidatorTests
{
    [Fact]
    public void Validate_ValidOptions_ReportsNothing()
    {
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(TestOptions.Valid(), errors);

        Assert.Empty(errors);
    }

    [Fact]
    public void Validate_TaskHeaders_MustBeHeaderNames()
    {
        var options = TestOptions.Valid();
        var plan = options.Plans.Values.First();
        plan.TaskHeaders = ["x-claude-code-session-id", "session_id", "", "bad header", new string('h', 65)];
        string path = $"Tollgate:Plans:{options.Plans.Keys.First()}:TaskHeaders";
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal([$"{path}:2", $"{path}:3", $"{path}:4"], errors.Select(e => e.Path));
    }

    [Theory]
    [InlineData("2024-10-21", true)]
    [InlineData("2025-04-01-preview", true)]
    [InlineData("2024-13-01", false)]
    [InlineData("latest", false)]
    [InlineData("2024-10-21-Preview!", false)]
    public void Validate_AzureApiVersion_IsADatedVersion(string version, bool valid)
    {
        var options = TestOptions.Valid();
        options.Upstreams["azure"] = new() { Kind = UpstreamKinds.AzureOpenAI, BaseUrl = "https://example.openai.azure.com", AzureApiVersion = version };
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal(valid ? [] : ["Tollgate:Upstreams:azure:AzureApiVersion"], errors.Select(e => e.Path));
    }

    [Fact]
    public void Validate_Apis_OnlyKnownNames()
    {
        var options = TestOptions.Valid();
        options.Upstreams["vllm"] = new() { BaseUrl = "http://127.0.0.1:8000/v1", Apis = ["chat", "embeddings"] };
        options.Upstreams["typo"] = new() { BaseUrl = "http://127.0.0.1:8001/v1", Apis = ["chat", "Responses"] };
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal(["Tollgate:Upstreams:typo:Apis"], errors.Select(e => e.Path));
    }

    [Fact]
    public void Validate_EmptyOptions_RequiresAnUpstreamAndAModel()
    {
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(new TollgateOptions(), errors);

        Assert.Equal(
        [
            new ConfigError("Tollgate:Upstreams", "at least one upstream is required"),
            new ConfigError("Tollgate:Models", "at least one model is required"),
        ], errors);
    }

    [Fact]
    public void Validate_BrokenInManyWays_ReportsEveryErrorWithPathAndValue()
    {
        var options = new TollgateOptions
        {
            Upstreams = new(StringComparer.Ordinal)
            {
                ["bad"] = new()
                {
                    Kind = "grpc",
                    ApiKeyEnv = "sk-live-123456",
                    ConnectTimeout = TimeSpan.Zero,
                    Simulator = new() { TimePerToken = TimeSpan.FromMilliseconds(-1) },
                },
                ["web"] = new() { Kind = UpstreamKinds.OpenAI, BaseUrl = "ftp://example.com" },
            },
            Models = new(StringComparer.Ordinal)
            {
                ["m"] = new()
                {
                    Upstream = "nope",
                    Type = "image",
                    Prices = new() { Input = 0.0000001m, CachedInput = -1m, Output = 2_000_000m },
                    ContextWindow = 0,
                    MaxOutputTokens = 10,
                    Encoding = "bogus",
                    ApproximationMarginPercent = 500,
                },
                ["m2"] = new() { Upstream = "web", Aliases = ["m", "shared"] },
                ["m3"] = new() { Upstream = "web", Aliases = ["shared"] },
            },
            Plans = new(StringComparer.Ordinal) { ["p"] = new() { Models = ["m2", "ghost", "*", "shared"] } },
            Gateway = new() { MaxRequestBodyBytes = 10, MaxResponseBodyBytes = 0, DrainTimeout = TimeSpan.FromSeconds(-1) },
            Ledger = new() { FlushInterval = TimeSpan.Zero, MaxBatchSize = 0, MaxPendingRecords = -1, RetentionDays = -1 },
            Metrics = new() { Urls = "not a url" },
        };
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        (string Path, string? Value)[] expected =
        [
            ("Tollgate:Upstreams:bad:Kind", "grpc"),
            ("Tollgate:Upstreams:bad:ApiKeyEnv", "sk-…"),
            ("Tollgate:Upstreams:bad:ConnectTimeout", "00:00:00"),
            ("Tollgate:Upstreams:bad:Simulator:TimePerToken", "-00:00:00.0010000"),
            ("Tollgate:Upstreams:web:BaseUrl", "ftp://example.com"),
            ("Tollgate:Models:m:Upstream", "nope"),
            ("Tollgate:Models:m:Type", "image"),
            ("Tollgate:Models:m:Prices:Input", "0.0000001"),
            ("Tollgate:Models:m:Prices:CachedInput", "-1"),
            ("Tollgate:Models:m:Prices:Output", "2000000"),
            ("Tollgate:Models:m:ContextWindow", "0"),
            ("Tollgate:Models:m:MaxOutputTokens", "10"),
            ("Tollgate:Models:m:Encoding", "bogus"),
            ("Tollgate:Models:m:ApproximationMarginPercent", "500"),
            ("Tollgate:Models:m2:Aliases", "m"),
            ("Tollgate:Models:m3:Aliases", "shared"),
            ("Tollgate:Plans:p:Models:1", "ghost"),
            ("Tollgate:Gateway:MaxRequestBodyBytes", "10"),
            ("Tollgate:Gateway:MaxResponseBodyBytes", "0"),
            ("Tollgate:Gateway:DrainTimeout", "-00:00:01"),
            ("Tollgate:Ledger:FlushInterval", "00:00:00"),
            ("Tollgate:Ledger:MaxBatchSize", "0"),
            ("Tollgate:Ledger:MaxPendingRecords", "-1"),
            ("Tollgate:Ledger:RetentionDays", "-1"),
            ("Tollgate:Metrics:Urls", "not a url"),
        ];
        Assert.Equal(expected.Order(), errors.Select(e => (e.Path, e.Value)).Order());
        Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
    }

    [Fact]
    public void Validate_ApiKeyEnvHoldingASecret_NeverEchoesIt()
    {
        var options = TestOptions.Valid();
        options.Upstreams["openai"].ApiKeyEnv = "sk-proj-abcdefghijklmnop";
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        var error = Assert.Single(errors);
        Assert.DoesNotContain("abcdef", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_WithValue_NamesPathMessageAndValue()
    {
        Assert.Equal("A:B: must be positive (value: '0')", new ConfigError("A:B", "must be positive", "0").ToString());
        Assert.Equal("A: required", new ConfigError("A", "required").ToString());
    }

    [Theory]
    [InlineData("InvalidBody")]
    [InlineData("StreamCutWithoutUsage")]
    [InlineData("BackgroundUnsettled")]
    public void Validate_NoneWhereResponseBytesArrived_IsRejected(string outcome)
    {
        var options = TestOptions.Valid();
        var rules = options.Upstreams["openai"].UnknownOutcomes;
        typeof(UnknownOutcomeOptions).GetProperty(outcome)!.SetValue(rules, "none");
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        var error = Assert.Single(errors);
        Assert.Equal($"Tollgate:Upstreams:openai:UnknownOutcomes:{outcome}", error.Path);
        Assert.Contains("cannot be 'none'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownOutcomeRules_AcceptNoneBeforeAnyByteAndRejectUnknownWords()
    {
        var options = TestOptions.Valid();
        var rules = options.Upstreams["openai"].UnknownOutcomes;
        rules.ConnectFailure = "none";
        rules.TimeoutBeforeHeaders = "none";
        rules.ResetBeforeHeaders = "none";
        rules.InvalidBody = "reservation";
        rules.StreamCutWithoutUsage = "maybe";
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        var error = Assert.Single(errors);
        Assert.Equal("Tollgate:Upstreams:openai:UnknownOutcomes:StreamCutWithoutUsage", error.Path);
        Assert.Equal("maybe", error.Value);
    }
}
