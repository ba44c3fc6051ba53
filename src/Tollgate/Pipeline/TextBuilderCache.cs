using System.Text;

namespace Tollgate.Pipeline;

/// <summary>
/// One <see cref="StringBuilder"/> per thread for text gathered and dropped within a synchronous stretch of a request
/// (a whole response's generated text, read for its count): taken, used with no <c>await</c> in between, and given
/// back, so that most requests allocate no builder.
/// </summary>
internal static class TextBuilderCache
{
    /// <summary>Builders that grew past this many characters are left to the collector rather than kept.</summary>
    public const int MaxKeptCapacity = 16 * 1024;

    [ThreadStatic]
    private static StringBuilder? t_cached;

    /// <summary>An empty builder: this thread's cached one, or a new one when it is taken.</summary>
    public static StringBuilder Take()
    {
        var builder = t_cached;
        if (builder is null)
        {
            return new StringBuilder();
        }

        t_cached = null;
        return builder;
    }

    /// <summary>Gives <paramref name="builder"/> back, emptied, to be taken again on this thread; nothing may use it after.</summary>
    public static void Return(StringBuilder builder)
    {
        if (builder.Capacity <= MaxKeptCapacity)
        {
            builder.Clear();
            t_cached = builder;
        }
    }
}
