using System.Text;
using Tollgate.Pipeline;

namespace Tollgate.Tests.Pipeline;

public sealed class TextBuilderCacheTests
{
    [Fact]
    public void A_builder_given_back_is_taken_again_on_the_same_thread_empty()
    {
        var first = TextBuilderCache.Take();
        first.Append("generated text");
        TextBuilderCache.Return(first);

        var second = TextBuilderCache.Take();
        Assert.Same(first, second);
        Assert.Equal(0, second.Length);

        // Taken: the next one is another builder until this one comes back.
        var third = TextBuilderCache.Take();
        Assert.NotSame(second, third);
        TextBuilderCache.Return(second);
    }

    [Fact]
    public void A_builder_that_grew_past_the_bound_is_not_kept()
    {
        var large = TextBuilderCache.Take();
        large.Append('x', TextBuilderCache.MaxKeptCapacity + 1);
        TextBuilderCache.Return(large);

        var next = TextBuilderCache.Take();
        Assert.NotSame(large, next);
        Assert.Equal(0, next.Length);
    }

    [Fact]
    public void Each_thread_keeps_its_own()
    {
        var mine = TextBuilderCache.Take();
        TextBuilderCache.Return(mine);

        StringBuilder? theirs = null;
        var thread = new Thread(() => theirs = TextBuilderCache.Take());
        thread.Start();
        thread.Join();

        Assert.NotNull(theirs);
        Assert.NotSame(mine, theirs);
        Assert.Same(mine, TextBuilderCache.Take());
    }
}
