using Tollgate.Limits;

namespace Tollgate.Core.Tests.Limits;

public sealed class CounterTests
{
    [Fact]
    public void Add_OneRequestPerWindow_HoldsOneSlot()
    {
        var counter = new Counter(Window.Minute);

        counter.Add(1000, 1);
        counter.Add(1000, 1);

        Assert.Equal((2, 1), (counter.Sum(1000), counter.Capacity));
    }

    [Fact]
    public void Add_EverySlotForLongerThanTheWindow_CountsTheLast61AndNeverHoldsMore()
    {
        var counter = new Counter(Window.Minute);

        for (long slot = 1; slot <= 500; slot++)
        {
            counter.Add(slot, slot);
            long expected = 0;
            for (long s = Math.Max(1, slot - 60); s <= slot; s++)
            {
                expected += s;
            }

            Assert.Equal(expected, counter.Sum(slot));
        }

        Assert.True(counter.Capacity <= 61, $"capacity {counter.Capacity}");
    }

    [Fact]
    public void Add_ToASlotThatLeftTheWindow_IsIgnored()
    {
        var counter = new Counter(Window.Minute);
        counter.Add(100, 5);
        counter.Add(200, 7);

        counter.Add(100, -5);
        counter.Add(120, 3);

        Assert.Equal(7, counter.Sum(200));
    }

    [Fact]
    public void Add_LateSettleToASlotStillInTheWindow_Applies()
    {
        var counter = new Counter(Window.Minute);
        counter.Add(100, 50);
        counter.Add(130, 1);

        counter.Add(100, -30);

        Assert.Equal(21, counter.Sum(130));
    }

    [Fact]
    public void Sum_AskedAgainInTheSameSlot_ReadsWhatAddKeptCurrent()
    {
        var counter = new Counter(Window.Minute);
        for (long slot = 1; slot <= 60; slot++)
        {
            counter.Add(slot, 3);
        }

        long walks = counter.Walks;
        for (int i = 0; i < 1000; i++)
        {
            // A request's reserve, its statuses, and its settle, all in the current slot.
            counter.Add(60, 10);
            Assert.Equal(180 + (10 * (i + 1)) - (9 * i), counter.Sum(60));
            counter.Add(60, -9);
        }

        Assert.Equal(walks + 1, counter.Walks);
        Assert.Equal(counter.Walk(60).Sum, counter.Sum(60));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void SumAndResetsIn_AfterRandomAddsAndAsks_MatchAWalkOfTheSlots(int seed)
    {
        // Reserves, settles and releases land in slots around the current one, a little late or early; asks come
        // at the current slot or one before it; now and then an amount near the saturation point.
        var random = new Random(seed);
        var counter = new Counter(Window.Minute);
        var scope = new Scope(ScopeKind.Key, "k:test", "key test", TimeZoneInfo.Utc);
        long current = 1_000;
        for (int i = 0; i < 20_000; i++)
        {
            if (random.Next(10) == 0)
            {
                current += random.Next(1, 4);
            }

            long slot = current - random.Next(0, 70) + (random.Next(20) == 0 ? 2 : 0);
            long amount = random.Next(50) == 0 ? long.MaxValue / 3 : random.Next(-8, 12);
            counter.Add(slot, amount);

            // Mostly the current slot or the one before it; now and then one well inside the window, or at its edge.
            long asked = current - (random.Next(8) == 0 ? random.Next(0, 66) : random.Next(0, 2));
            var (sum, oldest) = counter.Walk(asked);
            var now = DateTimeOffset.FromUnixTimeMilliseconds(asked * WindowClock.SlotMilliseconds(Window.Minute));
            var expectedReset = oldest == long.MaxValue ? TimeSpan.Zero
                : TimeSpan.FromTicks(Math.Max(0, (WindowClock.SlotExpiry(Window.Minute, oldest) - now).Ticks));
            Assert.Equal(sum, counter.Sum(asked));
            Assert.Equal(expectedReset, counter.ResetsIn(asked, scope, now));
        }

        // 40,000 asks (a sum and a reset time each round): the remembered window answered a good share of them.
        Assert.True(counter.Walks < 30_000, $"{counter.Walks} walks for 40,000 asks");
    }
}
