using Tollgate.Caching;
using Tollgate.Pricing;

namespace Tollgate.Core.Tests.Caching;

public sealed class ResponseFlightsTests
{
    private static readonly ResponseCacheKey s_key = new(1, 2);
    private static readonly CachedAnswer s_answer = new("{}"u8.ToArray(), new TokenUsage(3, 0, 4, 0));

    [Fact]
    public async Task TryLead_FirstLeadsOthersFollowAndGetThePublishedAnswer()
    {
        var flights = new ResponseFlights();
        Assert.True(flights.TryLead(s_key, out var lead));
        Assert.False(flights.TryLead(s_key, out var followed));
        Assert.Same(lead, followed);
        var waiting = flights.FollowAsync(followed, CancellationToken.None);
        await flights.WaitForFollowersAsync(1, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        ResponseFlights.Publish(lead, s_answer);

        Assert.Same(s_answer, await waiting);
    }

    [Fact]
    public async Task PublishedButNotEnded_ALateRequestFollowsAndIsAnsweredAtOnce_AfterEndANewFlightStarts()
    {
        var flights = new ResponseFlights();
        flights.TryLead(s_key, out var lead);
        ResponseFlights.Publish(lead, s_answer);

        Assert.False(flights.TryLead(s_key, out var late));
        Assert.Same(s_answer, await flights.FollowAsync(late, CancellationToken.None));

        flights.End(lead);
        Assert.True(flights.TryLead(s_key, out var next));
        Assert.NotSame(lead, next);
        Assert.Same(s_answer, await lead.Answer);
    }

    [Fact]
    public async Task End_WithoutAnAnswer_TellsEveryFollowerToGoUpstream()
    {
        var flights = new ResponseFlights();
        flights.TryLead(s_key, out var lead);
        flights.TryLead(s_key, out var followed);
        var followers = Enumerable.Range(0, 5).Select(_ => flights.FollowAsync(followed, CancellationToken.None)).ToArray();

        flights.End(lead);

        Assert.All(await Task.WhenAll(followers), Assert.Null);
        Assert.Equal((0, 0), (flights.Count, flights.Following));
    }

    [Fact]
    public async Task End_Twice_OrAfterANewFlightStarted_LeavesTheNewOneAlone()
    {
        var flights = new ResponseFlights();
        flights.TryLead(s_key, out var first);
        flights.End(first);
        flights.TryLead(s_key, out var second);

        flights.End(first);

        Assert.Equal(1, flights.Count);
        Assert.False(flights.TryLead(s_key, out var followed));
        Assert.Same(second, followed);
        ResponseFlights.Publish(second, s_answer);
        Assert.Same(s_answer, await flights.FollowAsync(followed, CancellationToken.None));
    }

    [Fact]
    public async Task FollowAsync_Cancelled_LeavesWithoutDisturbingTheFlight()
    {
        var flights = new ResponseFlights();
        flights.TryLead(s_key, out var lead);
        using var leaving = new CancellationTokenSource();
        var gone = flights.FollowAsync(lead, leaving.Token);
        var stays = flights.FollowAsync(lead, CancellationToken.None);

        await leaving.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        Assert.Equal(1, flights.Following);
        ResponseFlights.Publish(lead, s_answer);
        Assert.Same(s_answer, await stays);
    }

    [Fact]
    public void DifferentKeys_FlyApart()
    {
        var flights = new ResponseFlights();

        Assert.True(flights.TryLead(new ResponseCacheKey(1, 2), out _));
        Assert.True(flights.TryLead(new ResponseCacheKey(2, 1), out _));
        Assert.Equal(2, flights.Count);
    }

    [Fact]
    public async Task ManyConcurrentJoins_ExactlyOneLeader()
    {
        var flights = new ResponseFlights();
        int leaders = 0;

        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
        {
            if (flights.TryLead(s_key, out _))
            {
                Interlocked.Increment(ref leaders);
            }
        })));

        Assert.Equal(1, leaders);
    }
}
