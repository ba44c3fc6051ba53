using Tollgate.Limits;

namespace Tollgate.Core.Tests.Limits;

/// <summary>A refusal asks for a wait only when capacity returns within a minute, and never for more than 60 s.</summary>
public sealed class RefusalRetryTests
{
    [Theory]
    [InlineData(Window.Minute, 41_000)]
    [InlineData(Window.Hour, 30_000)]
    [InlineData(Window.Day, 60_000)]
    [InlineData(Window.CalendarDay, 5_000)]
    [InlineData(Window.Concurrent, 1_000)]
    public void SuggestedWait_CapacityBackWithinAMinute_AsksForTheExactWait(Window window, int milliseconds)
    {
        var wait = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Equal(wait, RefusalRetry.SuggestedWait(window, wait));
    }

    [Theory]
    [InlineData(60_001)]
    [InlineData(60_700)]
    [InlineData(61_000)]
    public void SuggestedWait_PerMinuteLimitPastSixtySeconds_AsksForSixty(int milliseconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(60), RefusalRetry.SuggestedWait(Window.Minute, TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Theory]
    [InlineData(Window.Hour, 60_001)]
    [InlineData(Window.Day, 86_849_000)]
    [InlineData(Window.CalendarDay, 43_200_000)]
    [InlineData(Window.CalendarMonth, 691_200_000)]
    public void SuggestedWait_CapacityBackLater_AsksNotToRetry(Window window, long milliseconds)
    {
        Assert.Null(RefusalRetry.SuggestedWait(window, TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Theory]
    [InlineData(Window.Minute)]
    [InlineData(Window.CalendarDay)]
    public void SuggestedWait_RequestLargerThanTheLimit_AsksNotToRetry(Window window)
    {
        Assert.Null(RefusalRetry.SuggestedWait(window, null));
    }
}
