using System.Text;
using Tollgate.Configuration;

namespace Tollgate.Benchmarks.Pipeline;

/// <summary>
/// A typical chat request and the upstream's answers to it, and a configuration with limits at every scope (plan,
/// tenant, global; requests, tokens, concurrency, budgets) so that admission does all of its work.
/// </summary>
public static class PipelineInputs
{
    /// <summary>The model callers ask for.</summary>
    public const string Model = "chat-mini";

    /// <summary>The plan the benchmark caller is on.</summary>
    public const string Plan = "metered";

    /// <summary>A chat request of a system prompt, two turns and a question (about 1 KB).</summary>
    public static readonly byte[] ChatRequest = Encoding.UTF8.GetBytes(ChatJson(stream: false));

    /// <summary>The same request, streamed.</summary>
    public static readonly byte[] StreamingChatRequest = Encoding.UTF8.GetBytes(ChatJson(stream: true));

    /// <summary>A chat completion of one choice with usage, as an OpenAI-compatible upstream sends it.</summary>
    public static readonly byte[] ChatResponse = Encoding.UTF8.GetBytes(
        "{\"id\":\"chatcmpl-bench0001\",\"object\":\"chat.completion\",\"created\":1767225600,\"model\":\"chat-mini-2025\"," +
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + Answer + "\",\"refusal\":null}," +
        "\"logprobs\":null,\"finish_reason\":\"stop\"}]," +
        "\"usage\":{\"prompt_tokens\":212,\"completion_tokens\":58,\"total_tokens\":270," +
        "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}," +
        "\"system_fingerprint\":\"fp_bench\"}");

    /// <summary>The same answer as an event stream: a role chunk, 20 content chunks, a finish chunk, a usage chunk, [DONE].</summary>
    public static readonly byte[] ChatStream = Encoding.UTF8.GetBytes(StreamText());

    private const string Answer =
        "Tides are the regular rise and fall of the sea, caused mostly by the Moon's gravity pulling on the oceans, " +
        "with the Sun adding a smaller pull. Most coasts see two high and two low tides a day.";

    /// <summary>Models, an <c>openai</c>-kind upstream and the plan <see cref="Plan"/> with generous limits at every scope.</summary>
    public static TollgateOptions Options() => new()
    {
        Upstreams = new(StringComparer.Ordinal)
        {
            ["memory"] = new()
            {
                Kind = UpstreamKinds.OpenAI,
                BaseUrl = "http://upstream.invalid/v1",
                ResponseTimeout = TimeSpan.FromSeconds(30),
                IdleTimeout = TimeSpan.FromSeconds(30),
            },
        },
        Models = new(StringComparer.Ordinal)
        {
            [Model] = new()
            {
                Upstream = "memory",
                UpstreamModel = "chat-mini-2025",
                Prices = new() { Input = 0.15m, CachedInput = 0.075m, Output = 0.6m },
                ContextWindow = 128_000,
                MaxOutputTokens = 16_384,
                Encoding = "o200k_base",
            },
        },
        Plans = new(StringComparer.Ordinal)
        {
            [Plan] = new()
            {
                Models = [Model],
                RequestsPerMinute = 100_000_000,
                RequestsPerDay = 1_000_000_000,
                TokensPerMinute = 1_000_000_000_000,
                TokensPerDay = 1_000_000_000_000,
                MaxConcurrentRequests = 1_000,
                MaxInputTokens = 32_000,
                MaxOutputTokens = 4_096,
                DefaultMaxOutputTokens = 1_024,
                BudgetPerDay = 1_000_000_000m,
                BudgetPerMonth = 1_000_000_000m,
                TaskBudgetPerDay = 1_000_000_000m,
            },
        },
        TenantDefaults = new()
        {
            RequestsPerMinute = 100_000_000,
            MaxConcurrentRequests = 1_000,
            BudgetPerDay = 1_000_000_000m,
        },
        Global = new()
        {
            MaxConcurrentRequests = 10_000,
            BudgetPerDay = 1_000_000_000m,
        },
    };

    /// <summary>The compiled configuration of <see cref="Options"/>.</summary>
    public static GatewayConfig Config()
    {
        if (!GatewayConfig.TryCreate(Options(), out var config, out var errors))
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        return config!;
    }

    private static string ChatJson(bool stream) =>
        "{\"model\":\"" + Model + "\",\"messages\":[" +
        "{\"role\":\"system\",\"content\":\"You are a helpful assistant for a marine science museum. Answer visitors' questions in plain " +
        "language, in at most three sentences, and suggest an exhibit to visit when one is relevant.\"}," +
        "{\"role\":\"user\",\"content\":\"Hello! We are visiting with two children, aged seven and ten.\"}," +
        "{\"role\":\"assistant\",\"content\":\"Welcome! The touch pools on the ground floor are a favourite with children of that age, " +
        "and the whale hall upstairs has a life-size blue whale model.\"}," +
        "{\"role\":\"user\",\"content\":\"Thanks. My youngest asks why the sea goes in and out at the beach every day. How would you " +
        "explain the tides to a seven-year-old, and is there something about them in the museum?\"}]," +
        "\"temperature\":0.7,\"max_tokens\":256,\"user\":\"visitor-42\"" +
        (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : string.Empty) + "}";

    private static string StreamText()
    {
        const string Head = "{\"id\":\"chatcmpl-bench0001\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"chat-mini-2025\",\"system_fingerprint\":\"fp_bench\",";
        var text = new StringBuilder();
        text.Append("data: ").Append(Head)
            .Append("\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
        const int Chunks = 20;
        int step = (Answer.Length + Chunks - 1) / Chunks;
        for (int i = 0; i < Chunks; i++)
        {
            string piece = Answer.Substring(Math.Min(i * step, Answer.Length), Math.Min(step, Math.Max(0, Answer.Length - (i * step))));
            text.Append("data: ").Append(Head)
                .Append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"").Append(piece)
                .Append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
        }

        text.Append("data: ").Append(Head).Append("\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
        text.Append("data: ").Append(Head)
            .Append("\"choices\":[],\"usage\":{\"prompt_tokens\":212,\"completion_tokens\":58,\"total_tokens\":270,")
            .Append("\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n");
        text.Append("data: [DONE]\n\n");
        return text.ToString();
    }
}
