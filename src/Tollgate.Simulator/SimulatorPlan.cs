namespace Tollgate.Simulator;

/// <summary>
/// Everything the simulated model will say and bill for one request, decided up front from the prompt text:
/// a stable hash of it picks the length (8 + hash % 33 words, unless <c>[[sim:tokens=N]]</c>) and the words.
/// A chat request with tools or a JSON output format gets what a cooperative model gives (see
/// <see cref="SimulatorReplyKind"/>): a tool call whose arguments fit the tool's schema, or JSON that fits the format.
/// </summary>
internal sealed partial class SimulatorPlan
{
    private const int MinimumLength = 8;
    private const int LengthSpread = 33;

    /// <summary>The words (or pieces of text) of each choice (empty for embeddings).</summary>
    public required IReadOnlyList<string[]> Choices { get; init; }

    /// <summary>The tokens of each piece of <see cref="Choices"/>, per choice; null when every piece is one word (one token).</summary>
    public IReadOnlyList<int[]>? PieceTokens { get; init; }

    /// <summary>The tool calls of each choice (empty when the model answers in text).</summary>
    public IReadOnlyList<SimulatorToolCall[]> ToolCalls { get; init; } = [];

    /// <summary><c>stop</c>, or <c>length</c> when the request's cap cut the reply short.</summary>
    public required string FinishReason { get; init; }

    /// <summary>Input tokens.</summary>
    public required long PromptTokens { get; init; }

    /// <summary>Input tokens reported as cached.</summary>
    public required long CachedTokens { get; init; }

    /// <summary>Input tokens reported as written to the cache for five minutes.</summary>
    public long CacheWrite5mTokens { get; init; }

    /// <summary>Input tokens reported as written to the cache for an hour.</summary>
    public long CacheWrite1hTokens { get; init; }

    /// <summary>Unseen reasoning tokens, counted once per request.</summary>
    public required long ReasoningTokens { get; init; }

    /// <summary>The misbehaviours that apply, as billed; null when none.</summary>
    public required string? Fault { get; init; }

    /// <summary>Tokens of everything said over all choices: text and tool call arguments.</summary>
    public long ContentTokens
    {
        get
        {
            long total = 0;
            for (int i = 0; i < Choices.Count; i++)
            {
                total += TokensOf(i, int.MaxValue);
            }

            return total;
        }
    }

    /// <summary>The stream pieces of choice <paramref name="choice"/>: its text, then each tool call's arguments.</summary>
    public int PieceCount(int choice)
    {
        int count = Choices[choice].Length;
        foreach (var call in CallsOf(choice))
        {
            count += call.Pieces.Length;
        }

        return count;
    }

    /// <summary>Tokens of the first <paramref name="pieces"/> stream pieces of choice <paramref name="choice"/>.</summary>
    public long TokensOf(int choice, int pieces)
    {
        long total = 0;
        int text = Math.Min(pieces, Choices[choice].Length);
        if (PieceTokens is null)
        {
            total += text;
        }
        else
        {
            for (int i = 0; i < text; i++)
            {
                total += PieceTokens[choice][i];
            }
        }

        int left = pieces - text;
        foreach (var call in CallsOf(choice))
        {
            for (int i = 0; i < call.Pieces.Length && left > 0; i++, left--)
            {
                total += call.Tokens[i];
            }
        }

        return total;
    }

    /// <summary>The tool calls of choice <paramref name="choice"/>.</summary>
    public IReadOnlyList<SimulatorToolCall> CallsOf(int choice) => choice < ToolCalls.Count ? ToolCalls[choice] : [];

    /// <summary>Output tokens billed: reasoning plus every word.</summary>
    public long CompletionTokens => ReasoningTokens + ContentTokens;

    /// <summary>Plans the reply to <paramref name="request"/> under <paramref name="directives"/>.</summary>
    public static SimulatorPlan Create(SimulatorRequest request, SimulatorDirectives directives)
    {
        ulong hash = StableHash.Fnv1a(request.PromptText);
        if (request.Kind is SimulatorEndpointKind.ChatCompletions or SimulatorEndpointKind.Responses or SimulatorEndpointKind.Messages && ChooseReply(request, directives) is { } reply)
        {
            return CreateStructured(request, directives, reply, hash);
        }

        long planned = directives.Tokens ?? MinimumLength + (int)(hash % LengthSpread);
        long reasoning = directives.Reasoning;
        long words = planned;
        string finishReason = "stop";

        // Like OpenAI's max_completion_tokens, the cap bounds reasoning and visible tokens together.
        if (request.MaxTokens is int cap && !directives.IgnoreMaxTokens && planned + reasoning > cap)
        {
            finishReason = "length";
            reasoning = Math.Min(reasoning, cap);
            words = Math.Min(planned, cap - reasoning);
        }

        bool embeddings = request.Kind == SimulatorEndpointKind.Embeddings;
        var choices = new string[embeddings ? 0 : request.ChoiceCount][];
        for (int i = 0; i < choices.Length; i++)
        {
            choices[i] = PickWords(hash, i, (int)words);
        }

        long cached = Math.Min(directives.Cached, request.PromptTokens);
        long write5m = Math.Min(directives.CacheWrite5m, request.PromptTokens - cached);
        long write1h = Math.Min(directives.CacheWrite1h, request.PromptTokens - cached - write5m);
        return new SimulatorPlan
        {
            CacheWrite5mTokens = write5m,
            CacheWrite1hTokens = write1h,
            Choices = choices,
            FinishReason = finishReason,
            PromptTokens = request.PromptTokens,
            CachedTokens = cached,
            ReasoningTokens = embeddings ? 0 : reasoning,
            Fault = DescribeFaults(directives),
        };
    }

    private static string[] PickWords(ulong hash, int choice, int count)
    {
        var random = new SimulatorRandom(hash + ((ulong)choice * 0x9E3779B97F4A7C15));
        var words = new string[count];
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = SimulatorVocabulary.Pick(random.Next());
        }

        return words;
    }

    private static string? DescribeFaults(SimulatorDirectives directives)
    {
        var faults = new List<string>(4);
        if (directives.Cut is not null)
        {
            faults.Add("cut");
        }

        if (directives.NoUsage)
        {
            faults.Add("no_usage");
        }

        if (directives.IgnoreMaxTokens)
        {
            faults.Add("ignore_max_tokens");
        }

        if (directives.Hang)
        {
            faults.Add("hang");
        }

        return faults.Count == 0 ? null : string.Join(',', faults);
    }
}
