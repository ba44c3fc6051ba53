using System.Globalization;
using Tollgate.Configuration;

namespace Tollgate.Validation;

/// <summary>Checks <see cref="RepetitionOptions"/> and reports every out-of-range value, not just the first.</summary>
public static class RepetitionOptionsValidator
{
    /// <summary>Adds every problem of <paramref name="options"/> to <paramref name="errors"/>, under <paramref name="path"/>.</summary>
    public static void Validate(RepetitionOptions options, string path, List<ConfigError> errors)
    {
        Range(errors, path, nameof(options.MinLength), options.MinLength, 128, 16_777_216);
        Range(errors, path, nameof(options.MaxExaminedChars), options.MaxExaminedChars, 16_384, 16_777_216);
        Range(errors, path, nameof(options.ShingleLength), options.ShingleLength, 16, 256);
        Range(errors, path, nameof(options.MaxCompressionRatio), options.MaxCompressionRatio, 2, 10_000);
        Range(errors, path, nameof(options.MinDistinctWordRatio), options.MinDistinctWordRatio, 0, 0.5);
        Range(errors, path, nameof(options.MinWords), options.MinWords, 100, 100_000);
        Range(errors, path, nameof(options.MinAmplificationCount), options.MinAmplificationCount, 2, long.MaxValue);
        var timeout = options.AmplificationMatchTimeout;
        if (timeout < TimeSpan.FromMilliseconds(1) || timeout > TimeSpan.FromSeconds(10))
        {
            errors.Add(new ConfigError($"{path}:{nameof(options.AmplificationMatchTimeout)}", "must be between 00:00:00.001 and 00:00:10", timeout.ToString("c", CultureInfo.InvariantCulture)));
        }
    }

    private static void Range(List<ConfigError> errors, string path, string name, double value, double min, double max)
    {
        // NaN fails both comparisons, so test for being inside rather than outside.
        if (!(value >= min && value <= max))
        {
            errors.Add(new ConfigError(
                $"{path}:{name}",
                string.Create(CultureInfo.InvariantCulture, $"must be between {min} and {max}"),
                value.ToString(CultureInfo.InvariantCulture)));
        }
    }
}
