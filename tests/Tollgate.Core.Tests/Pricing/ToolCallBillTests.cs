using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Pricing;

/// <summary>The hosted tool calls of a bill: each at its fee, exactly, at most the calls the upstream was allowed.</summary>
public sealed class ToolCallBillTests
{
    private static readonly ToolCallPrices s_prices = ToolCallPrices.Create(new Dictionary<string, long>
    {
        ["web_search"] = 10_000,
        ["web_search_preview"] = 25_000,
        ["file_search"] = 2_500,
        ["code_interpreter"] = 0,
    });

    [Fact]
    public void For_CallsOfSeveralTools_EachAtItsFeeInExactNanos()
    {
        var calls = Calls("file_search_call", "file_search_call", "file_search_call", "code_interpreter_call");

        var bill = ToolCallBill.For(calls, s_prices, bound: 10);

        Assert.Equal(new ToolCallBill(4, 7_500_000, Clamped: false), bill);
    }

    [Fact]
    public void For_ToolsSharingAnItemType_TheirCallsCostTheHigherFee()
    {
        var bill = ToolCallBill.For(Calls("web_search_call"), s_prices, bound: 10);

        Assert.Equal(25_000_000, bill.FeeNanos);
    }

    [Fact]
    public void For_MoreCallsThanAllowed_ClampedTheDearestFirst()
    {
        var calls = Calls("file_search_call", "file_search_call", "web_search_call", "web_search_call");

        var bill = ToolCallBill.For(calls, s_prices, bound: 3);

        Assert.Equal(new ToolCallBill(3, 25_000_000 * 2 + 2_500_000, Clamped: true), bill);
    }

    [Fact]
    public void For_CallOfAToolTheModelDoesNotPrice_BilledAtItsHighestFee()
    {
        var bill = ToolCallBill.For(Calls("mcp_call"), s_prices, bound: 10);

        Assert.Equal(new ToolCallBill(1, 25_000_000, Clamped: false), bill);
    }

    [Fact]
    public void For_NoCalls_NothingBilled()
    {
        Assert.Equal(default, ToolCallBill.For(null, s_prices, 10));
        Assert.Equal(default, ToolCallBill.For(new HostedToolCalls(), s_prices, 10));
    }

    [Fact]
    public void For_AbsurdCounts_SaturateInsteadOfWrapping()
    {
        var prices = ToolCallPrices.Create(new Dictionary<string, long> { ["web_search"] = 1_000_000_000 });
        var calls = new HostedToolCalls();
        for (int i = 0; i < 20; i++)
        {
            calls.Add("web_search_call");
        }

        var bill = ToolCallBill.For(calls, prices, bound: long.MaxValue);

        Assert.Equal(20, bill.Calls);
        Assert.Equal(20_000_000_000_000L, bill.FeeNanos);
        Assert.Equal(long.MaxValue, ToolCallBill.For(calls, ToolCallPrices.Create(new Dictionary<string, long> { ["web_search"] = long.MaxValue / 2 }), long.MaxValue).FeeNanos);
    }

    [Fact]
    public void Larger_ListedAndStreamedCounts_PerTypeTheLarger()
    {
        var listed = Calls("web_search_call", "web_search_call");
        var streamed = Calls("web_search_call", "file_search_call");

        var larger = HostedToolCalls.Larger(listed, streamed)!;

        Assert.Equal(new Dictionary<string, long> { ["web_search_call"] = 2, ["file_search_call"] = 1 }, larger.ByItemType);
        Assert.Equal(3, larger.Total);
        Assert.Same(listed, HostedToolCalls.Larger(listed, null));
    }

    [Fact]
    public void CallItemType_KnownAndGenericTools()
    {
        Assert.Equal("web_search_call", ResponsesTools.CallItemType("web_search_preview_2025_03_11"));
        Assert.Equal("computer_call", ResponsesTools.CallItemType("computer_use_preview"));
        Assert.Equal("image_generation_call", ResponsesTools.CallItemType("image_generation"));
        Assert.False(ResponsesTools.IsHostedCallItem("function_call"));
        Assert.False(ResponsesTools.IsHostedCallItem("message"));
        Assert.True(ResponsesTools.IsHostedCallItem("file_search_call"));
    }

    private static HostedToolCalls Calls(params string[] types)
    {
        var calls = new HostedToolCalls();
        foreach (string type in types)
        {
            calls.Add(type);
        }

        return calls;
    }
}
