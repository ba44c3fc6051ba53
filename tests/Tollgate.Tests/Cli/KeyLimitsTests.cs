using Tollgate.Cli;

namespace Tollgate.Tests.Cli;

public sealed class KeyLimitsTests
{
    [Fact]
    public void ParsePairs_ValidPairs_CanonicalNamesAndValues()
    {
        var overrides = KeyLimits.ParsePairs(["requestsperminute=010", "BudgetPerDay=2.50", "TaskBudgetPerDay=0.000000001", " MaxN = 128 ", "TokensPerDay=9223372036854775807"], "--limit");

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["RequestsPerMinute"] = "10",
                ["BudgetPerDay"] = "2.5",
                ["TaskBudgetPerDay"] = "0.000000001",
                ["MaxN"] = "128",
                ["TokensPerDay"] = "9223372036854775807",
            },
            overrides);
    }

    [Fact]
    public void ParsePairs_EveryAllowedName_IsAccepted()
    {
        var overrides = KeyLimits.ParsePairs(KeyLimits.Names.Select(n => n + "=1"), "--limit");

        Assert.Equal(KeyLimits.Names.Order(StringComparer.Ordinal), overrides.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("MaxInputTokens", KeyLimits.Names);
        Assert.Contains("DefaultMaxOutputTokens", KeyLimits.Names);
        Assert.DoesNotContain("Models", KeyLimits.Names);
    }

    [Theory]
    [InlineData("Foo=1", "unknown limit 'Foo'")]
    [InlineData("Models=1", "unknown limit 'Models'")]
    [InlineData("RequestsPerMinute", "must be NAME=VALUE")]
    [InlineData("=5", "must be NAME=VALUE")]
    [InlineData("RequestsPerMinute=0", "RequestsPerMinute must be a whole number of at least 1")]
    [InlineData("RequestsPerMinute=-3", "RequestsPerMinute must be a whole number")]
    [InlineData("RequestsPerMinute=1.5", "RequestsPerMinute must be a whole number")]
    [InlineData("RequestsPerMinute=", "RequestsPerMinute must be a whole number")]
    [InlineData("TokensPerDay=9223372036854775808", "TokensPerDay must be a whole number")]
    [InlineData("MaxConcurrentRequests=2147483648", "MaxConcurrentRequests must be a whole number from 1 to 2147483647")]
    [InlineData("MaxN=129", "MaxN must be a whole number from 1 to 128")]
    [InlineData("BudgetPerDay=0", "BudgetPerDay must be a positive dollar amount")]
    [InlineData("BudgetPerMonth=1.0000000001", "BudgetPerMonth must be a positive dollar amount with at most 9 decimal places")]
    [InlineData("BudgetPerDay=$5", "BudgetPerDay must be a positive dollar amount")]
    [InlineData("BudgetPerDay=1e3", "BudgetPerDay must be a positive dollar amount")]
    [InlineData("TaskBudgetPerDay=-1", "TaskBudgetPerDay must be a positive dollar amount")]
    [InlineData("RequestsPerMinute=1,000", "RequestsPerMinute must be a whole number of at least 1: '1,000'.")]
    [InlineData("RequestsPerMinute=1e3", "RequestsPerMinute must be a whole number of at least 1: '1e3'.")]
    [InlineData("RequestsPerMinute=+5", "RequestsPerMinute must be a whole number of at least 1: '+5'.")]
    [InlineData("BudgetPerDay=1,000", "BudgetPerDay must be a positive dollar amount with at most 9 decimal places, e.g. 2.5: '1,000'.")]
    [InlineData("BudgetPerDay=+5", "BudgetPerDay must be a positive dollar amount")]
    [InlineData("MaxInputTokens=9223372036854775807", "MaxInputTokens must be a whole number from 1 to 2147483647")]
    public void ParsePairs_Invalid_ThrowsUsageErrorNamingTheProblem(string pair, string message)
    {
        var e = Assert.Throws<CliUsageException>(() => KeyLimits.ParsePairs([pair], "--limit"));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsePairs_SameNameTwice_Throws()
    {
        var e = Assert.Throws<CliUsageException>(() => KeyLimits.ParsePairs(["MaxN=2", "maxn=3"], "--limit"));

        Assert.Contains("MaxN is given more than once", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_Overrides_SortedByName()
    {
        var overrides = new Dictionary<string, string> { ["TokensPerDay"] = "5", ["BudgetPerDay"] = "2.5" };

        Assert.Equal("BudgetPerDay=2.5,TokensPerDay=5", KeyLimits.Format(overrides, ","));
    }

    [Theory]
    [InlineData(" 5", "RequestsPerMinute must be a whole number of at least 1: ' 5'.")]
    [InlineData("1,000", "RequestsPerMinute must be a whole number of at least 1: '1,000'.")]
    [InlineData("-5", "RequestsPerMinute must be a whole number of at least 1: '-5'.")]
    public void Add_ImportedValueInAnotherStyle_ThrowsUsageError(string value, string message)
    {
        var overrides = new Dictionary<string, string>();

        var e = Assert.Throws<CliUsageException>(() => KeyLimits.Add(overrides, "RequestsPerMinute", value, "Item 0 limits"));

        Assert.Equal($"Item 0 limits: {message}", e.Message);
        Assert.Empty(overrides);
    }

    [Fact]
    public void ParsePairs_SpacesAroundTheEqualsSign_ArePairSyntax()
    {
        Assert.Equal(new Dictionary<string, string> { ["RequestsPerMinute"] = "5" }, KeyLimits.ParsePairs(["RequestsPerMinute = 5"], "--limit"));
    }

    [Fact]
    public void Merge_StoredNameInAnotherCase_ReplacedByTheNewValue()
    {
        var merged = KeyLimits.Merge(new Dictionary<string, string> { ["maxn"] = "3", ["TokensPerDay"] = "5" }, new Dictionary<string, string> { ["MaxN"] = "2" });

        Assert.Equal(new Dictionary<string, string> { ["MaxN"] = "2", ["TokensPerDay"] = "5" }, merged);
    }
}
