namespace Tollgate.Validation;

/// <summary>
/// Chooses which parts of a text an inspection reads, so its work is bounded by a budget rather than by the text:
/// all of it when it fits; otherwise the first half of the budget, the last quarter, and eight evenly spaced slices
/// of the middle (instructions sit at the ends; padding fills the middle).
/// </summary>
internal static class TextSampler
{
    /// <summary>The most regions <see cref="Plan"/> writes.</summary>
    public const int MaxRegions = 2 + MiddleSlices;

    private const int MiddleSlices = 8;

    /// <summary>Writes the regions to read into <paramref name="regions"/> and returns how many there are.</summary>
    public static int Plan(int length, int budget, Span<Range> regions)
    {
        if (length <= budget)
        {
            regions[0] = new Range(0, length);
            return 1;
        }

        int head = budget / 2;
        int tail = budget / 4;
        int slice = (budget - head - tail) / MiddleSlices;
        // The middle is longer than eight slices, so each slice is centred in its own eighth and none overlap:
        // overlapping regions would read the same windows twice and look like repetition.
        int stride = (length - head - tail) / MiddleSlices;
        regions[0] = new Range(0, head);
        for (int i = 0; i < MiddleSlices; i++)
        {
            int start = head + (i * stride) + ((stride - slice) / 2);
            regions[1 + i] = new Range(start, start + slice);
        }

        regions[MaxRegions - 1] = new Range(length - tail, length);
        return MaxRegions;
    }
}
