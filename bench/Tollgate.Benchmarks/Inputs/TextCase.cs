namespace Tollgate.Benchmarks.Inputs;

/// <summary>One benchmark input: a shape at a length (UTF-16 characters). Prints as <c>Letters/64K</c>.</summary>
public sealed record TextCase(TextShape Shape, int Length)
{
    /// <summary>1 KB, 64 KB and 1 MB of characters.</summary>
    public static IReadOnlyList<int> Sizes { get; } = [1 << 10, 1 << 16, 1 << 20];

    /// <summary>Every shape at every size.</summary>
    public static IEnumerable<TextCase> All() =>
        from shape in Enum.GetValues<TextShape>()
        from length in Sizes
        select new TextCase(shape, length);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Shape}/{(Length >= 1 << 20 ? $"{Length >> 20}M" : $"{Length >> 10}K")}";
}
