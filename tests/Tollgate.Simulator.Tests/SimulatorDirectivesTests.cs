namespace Tollgate.Simulator.Tests;

public sealed class SimulatorDirectivesTests
{
    [Fact]
    public void TryParse_NoDirective_ReturnsNone()
    {
        Assert.True(SimulatorDirectives.TryParse("Hello [[not a directive]]", out var directives, out string? error));

        Assert.Same(SimulatorDirectives.None, directives);
        Assert.Null(error);
    }

    [Fact]
    public void TryParse_SeveralDirectives_ReadsEveryOne()
    {
        const string Text = "a [[sim:tokens=5]] b [[sim:cut=2]][[sim:no_usage]] [[sim:hold=gate-1]] "
            + "[[sim:cached=3]] [[sim:reasoning=4]] [[sim:ignore_max_tokens]] [[sim:rate_limit]] [[sim:error]] "
            + "[[sim:hang]] [[sim:garbage]] [[sim:once=first]]";

        Assert.True(SimulatorDirectives.TryParse(Text, out var directives, out _));

        Assert.Equal(
            new SimulatorDirectives
            {
                Tokens = 5,
                Cut = 2,
                NoUsage = true,
                Hold = "gate-1",
                Cached = 3,
                Reasoning = 4,
                IgnoreMaxTokens = true,
                RateLimit = true,
                Error = true,
                Hang = true,
                Garbage = true,
                Once = "first",
            },
            directives);
    }

    [Fact]
    public void Once_FirstRequestKeepsItsFaults_LaterOnesKeepShapeAndGateOnly()
    {
        Assert.True(SimulatorDirectives.TryParse(
            "[[sim:tokens=5]][[sim:cut=2]][[sim:no_usage]][[sim:hold=g]][[sim:cached=3]][[sim:reasoning=4]][[sim:ignore_max_tokens]]"
            + "[[sim:rate_limit]][[sim:error]][[sim:hang]][[sim:garbage]][[sim:once=n]]", out var directives, out _));
        var once = new SimulatorOnce();

        Assert.Same(directives, once.Apply(directives));
        Assert.Equal(new SimulatorDirectives { Tokens = 5, Hold = "g", Cached = 3, Reasoning = 4, Once = "n" }, once.Apply(directives));
        Assert.Same(SimulatorDirectives.None, once.Apply(SimulatorDirectives.None));
    }

    [Theory]
    [InlineData("[[sim:bogus]]")]
    [InlineData("[[sim:Tokens=3]]")]
    [InlineData("[[sim:tokens=-1]]")]
    [InlineData("[[sim:tokens=many]]")]
    [InlineData("[[sim:tokens]]")]
    [InlineData("[[sim:hang=1]]")]
    [InlineData("[[sim:hold=]]")]
    [InlineData("[[sim:once]]")]
    public void TryParse_UnknownOrMalformed_FailsNamingTheDirective(string text)
    {
        Assert.False(SimulatorDirectives.TryParse(text, out _, out string? error));

        Assert.Contains(text, error, StringComparison.Ordinal);
    }
}
