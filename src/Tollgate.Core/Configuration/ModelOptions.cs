namespace Tollgate.Configuration;

/// <summary>A model callers can name.</summary>
public sealed class ModelOptions
{
    /// <summary>Other names callers may use for this model.</summary>
    public List<string> Aliases { get; set; } = [];

    /// <summary>The upstream (a key of <see cref="TollgateOptions.Upstreams"/>) serving it.</summary>
    public string Upstream { get; set; } = "";

    /// <summary>The model id sent upstream; defaults to the public name.</summary>
    public string? UpstreamModel { get; set; }

    /// <summary><c>chat</c> (chat and legacy completions) or <c>embedding</c>.</summary>
    public string Type { get; set; } = ModelTypes.Chat;

    /// <summary>Prices in US dollars per million tokens.</summary>
    public PriceOptions Prices { get; set; } = new();

    /// <summary>Context window in tokens (input plus output).</summary>
    public int ContextWindow { get; set; } = 128_000;

    /// <summary>The largest output the model produces in one choice.</summary>
    public int MaxOutputTokens { get; set; } = 16_384;

    /// <summary>Token encoding: <c>o200k_base</c>, <c>cl100k_base</c> or <c>approximate</c>.</summary>
    public string Encoding { get; set; } = "o200k_base";

    /// <summary>
    /// The field that carries the output cap Tollgate injects or lowers on chat requests: <c>max_completion_tokens</c>
    /// (OpenAI's current field, required by reasoning models) or <c>max_tokens</c> (older servers). A cap the caller
    /// set stays in the field the caller used.
    /// </summary>
    public string OutputCapParameter { get; set; } = "max_completion_tokens";

    /// <summary>
    /// How far (percent) Tollgate's own count of a streamed answer may exceed the reserved output before the stream is
    /// cut as <c>output_limit_exceeded</c>, when the upstream does not stream its own counts. Defaults to 10 for
    /// <c>o200k_base</c> and <c>cl100k_base</c> (text split across events counts a little high) and 100 for
    /// <c>approximate</c> (another model's tokenizer can count the same text very differently).
    /// </summary>
    public int? StreamCutMarginPercent { get; set; }

    /// <summary>Percent added to counts of an <c>approximate</c> encoding, so estimates err high.</summary>
    public int ApproximationMarginPercent { get; set; } = 25;

    /// <summary>
    /// Input tokens reserved for one document block (a PDF) of an Anthropic Messages request. Unset: document blocks
    /// other than plain text are refused, since their tokens cannot be counted before the provider bills them.
    /// </summary>
    public int? DocumentTokens { get; set; }

    /// <summary>
    /// <c>anthropic-beta</c> values that change this model's prices (such as long-context pricing). A request naming
    /// one is refused unless <see cref="PriceOptions.CoveredBetas"/> lists it.
    /// </summary>
    public List<string> PriceChangingBetas { get; set; } = [];

    /// <summary>
    /// What to try, in order, when this model's upstream cannot answer (its breaker is open, it is cooling down after
    /// a 429, its quota is spent, or it failed in a way known to be unbilled): the name or alias of another model
    /// (skipped for a caller whose plan does not include it), or <c>upstream:NAME</c> for this same model on another
    /// upstream.
    /// </summary>
    public List<string> Fallbacks { get; set; } = [];

    /// <summary>Whether this model's answers may be cached, for plans with <see cref="PlanOptions.CacheResponses"/>.</summary>
    public bool CacheResponses { get; set; }
}

/// <summary>Prices of a model in US dollars per million tokens, at most six decimal places (a micro-dollar).</summary>
public sealed class PriceOptions
{
    /// <summary>Uncached input tokens.</summary>
    public decimal Input { get; set; }

    /// <summary>Cached input tokens; defaults to <see cref="Input"/> when absent.</summary>
    public decimal? CachedInput { get; set; }

    /// <summary>Output tokens (reasoning tokens included).</summary>
    public decimal Output { get; set; }

    /// <summary>Input tokens written to the prompt cache for five minutes; defaults to <see cref="Input"/> when absent.</summary>
    public decimal? CacheWrite5m { get; set; }

    /// <summary>Input tokens written to the prompt cache for an hour; defaults to <see cref="Input"/> when absent.</summary>
    public decimal? CacheWrite1h { get; set; }

    /// <summary>Price-changing betas (<see cref="ModelOptions.PriceChangingBetas"/>) that these prices already cover.</summary>
    public List<string> CoveredBetas { get; set; } = [];

    /// <summary>
    /// Fees per call of hosted tools (Responses API), in US dollars per call with at most six decimal places, by tool
    /// type (e.g. <c>"web_search": 0.01</c>). A hosted tool is allowed only when the caller's plan allows it
    /// (<see cref="PlanOptions.HostedTools"/>) and it is priced here.
    /// </summary>
    public Dictionary<string, decimal> ToolCalls { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Valid values of <see cref="ModelOptions.Type"/>.</summary>
public static class ModelTypes
{
    /// <summary>Chat and legacy text completions.</summary>
    public const string Chat = "chat";

    /// <summary>Embeddings.</summary>
    public const string Embedding = "embedding";
}
