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
}
