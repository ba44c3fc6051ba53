using Tollgate.Configuration;
using Tollgate.Core.Tests.Configuration;
using Tollgate.Limits;

namespace Tollgate.Core.Tests.Limits;

public sealed class KeyOverridesTests
{
    [Theory]
    [InlineData("RequestsPerMinute", "10", "RequestsPerMinute", "10")]
    [InlineData("requestsperminute", "010", "RequestsPerMinute", "10")]
    [InlineData("TOKENSPERDAY", "9223372036854775807", "TokensPerDay", "9223372036854775807")]
    [InlineData("MaxN", "128", "MaxN", "128")]
    [InlineData("MaxConcurrentRequests", "2147483647", "MaxConcurrentRequests", "2147483647")]
    [InlineData("BudgetPerDay", "2.50", "BudgetPerDay", "2.5")]
    [InlineData("budgetpermonth", ".5", "BudgetPerMonth", "0.5")]
    [InlineData("TaskBudgetPerDay", "0.000000001", "TaskBudgetPerDay", "0.000000001")]
    [InlineData("BudgetPerDay", "9000000000", "BudgetPerDay", "9000000000")]
    public void TryParse_Valid_CanonicalNameAndValue(string name, string value, string canonicalName, string canonicalValue)
    {
        Assert.True(KeyOverrides.TryParse(name, value, out var result, out string? error), error);

        Assert.Equal(new KeyOverride(canonicalName, canonicalValue), result);
    }

    // Whole numbers are plain ASCII digits: no group separator, exponent, sign, space, decimal point or other script.
    [Theory]
    [InlineData("1,000")]
    [InlineData("1e3")]
    [InlineData("+5")]
    [InlineData(" 5")]
    [InlineData("5 ")]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("1.0")]
    [InlineData("")]
    [InlineData("0x10")]
    [InlineData("\uFF15")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999")]
    public void TryParse_WholeNumberInAnotherStyleOrOutOfRange_RejectedNamingSettingAndValue(string value)
    {
        Assert.False(KeyOverrides.TryParse("RequestsPerMinute", value, out _, out string? error));

        Assert.Equal($"RequestsPerMinute must be a whole number of at least 1: '{value}'.", error);
    }

    [Theory]
    [InlineData("1,000")]
    [InlineData("1e3")]
    [InlineData("+5")]
    [InlineData(" 5")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("$5")]
    [InlineData("1.0000000001")]
    [InlineData("9000000000.000000001")]
    [InlineData("79228162514264337593543950336")]
    public void TryParse_DollarsInAnotherStyleOrOutOfRange_Rejected(string value)
    {
        Assert.False(KeyOverrides.TryParse("BudgetPerDay", value, out _, out string? error));

        Assert.Equal($"BudgetPerDay must be a positive dollar amount with at most 9 decimal places, e.g. 2.5: '{value}'.", error);
    }

    // Above the setting's range the value is rejected, never clamped to the largest allowed.
    [Theory]
    [InlineData("MaxN", "129", "MaxN must be a whole number from 1 to 128: '129'.")]
    [InlineData("MaxConcurrentRequests", "2147483648", "MaxConcurrentRequests must be a whole number from 1 to 2147483647: '2147483648'.")]
    [InlineData("MaxInputTokens", "9223372036854775807", "MaxInputTokens must be a whole number from 1 to 2147483647: '9223372036854775807'.")]
    [InlineData("Models", "1", "unknown limit 'Models'.")]
    [InlineData("Shadow", "1", "unknown limit 'Shadow'.")]
    public void TryParse_OutOfRangeOrUnknown_Rejected(string name, string value, string message)
    {
        Assert.False(KeyOverrides.TryParse(name, value, out _, out string? error));

        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_LimitsAndPlanFields()
    {
        Assert.Equal([.. LimitsOptions.LimitNames, "MaxInputTokens", "MaxOutputTokens", "DefaultMaxOutputTokens", "MaxN", "TaskBudgetPerDay"], KeyOverrides.Names);
    }

    [Fact]
    public void ApplyTo_ValidOverrides_SetOnACopy()
    {
        var plan = new PlanOptions { RequestsPerMinute = 60, MaxN = 4 };

        var effective = KeyOverrides.ApplyTo(plan, new Dictionary<string, string>
        {
            ["RequestsPerMinute"] = "10",
            ["maxn"] = "2",
            ["BudgetPerDay"] = "2.5",
            ["MaxConcurrentRequests"] = "2147483647",
        });

        Assert.Equal((10L, 2, 2.5m, (int?)int.MaxValue), (effective.RequestsPerMinute, effective.MaxN, effective.BudgetPerDay, effective.MaxConcurrentRequests));
        Assert.Equal((60L, 4, (decimal?)null), (plan.RequestsPerMinute, plan.MaxN, plan.BudgetPerDay));
    }

    [Theory]
    [InlineData("RequestsPerMinute", "1,000")]
    [InlineData("RequestsPerMinute", "1e3")]
    [InlineData("RequestsPerMinute", "+5")]
    [InlineData("RequestsPerMinute", " 5")]
    [InlineData("RequestsPerMinute", "-5")]
    [InlineData("RequestsPerMinute", "9223372036854775808")]
    [InlineData("BudgetPerDay", "1,000")]
    [InlineData("BudgetPerDay", " 1000")]
    [InlineData("BudgetPerDay", "+1000")]
    [InlineData("MaxConcurrentRequests", "2147483648")]
    [InlineData("MaxN", "129")]
    [InlineData("Nope", "1")]
    public void ApplyTo_InvalidStoredOverride_SkippedSoThePlanValueApplies(string name, string value)
    {
        var plan = new PlanOptions { RequestsPerMinute = 60, BudgetPerDay = 5m, MaxConcurrentRequests = 8, MaxN = 4 };

        var effective = KeyOverrides.ApplyTo(plan, new Dictionary<string, string> { [name] = value, ["TokensPerDay"] = "7" });

        Assert.Equal((60L, 5m, 8, 4), (effective.RequestsPerMinute, effective.BudgetPerDay, effective.MaxConcurrentRequests, effective.MaxN));
        Assert.Equal(7, effective.TokensPerDay);
    }

    [Fact]
    public void ApplyTo_OneNameInTwoLetterCases_BothSkipped()
    {
        var plan = new PlanOptions { MaxN = 4 };

        var effective = KeyOverrides.ApplyTo(plan, new Dictionary<string, string>(StringComparer.Ordinal) { ["MaxN"] = "1", ["maxn"] = "2" });

        Assert.Equal(4, effective.MaxN);
    }

    [Fact]
    public void EffectivePlans_InvalidOverride_PlanValueAndSameInstanceForTheSameOverrides()
    {
        Assert.True(GatewayConfig.TryCreate(TestOptions.Valid(), out var config, out _));
        config!.Options.Plans["basic"].RequestsPerMinute = 60;
        var overrides = new Dictionary<string, string> { ["RequestsPerMinute"] = "1,000", ["TokensPerMinute"] = "5" };

        var effective = EffectivePlans.Get(config, "basic", overrides)!;

        Assert.Equal((60L, 5L), (effective.RequestsPerMinute, effective.TokensPerMinute));
        Assert.Same(effective, EffectivePlans.Get(config, "basic", new Dictionary<string, string>(overrides)));
        Assert.Null(EffectivePlans.Get(config, "missing", overrides));
    }
}
