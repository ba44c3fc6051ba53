using System.Globalization;
using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>What kind of reply a chat request gets beyond plain words.</summary>
internal enum SimulatorReplyKind
{
    /// <summary>A call to a tool, with arguments given by a script or generated from the tool's schema.</summary>
    ToolCall,

    /// <summary>Text a script gives.</summary>
    Text,

    /// <summary>JSON that fits the requested format (<c>response_format</c>).</summary>
    Json,
}

/// <summary>The reply chosen for a chat request: its kind, and the tool, arguments or text that go with it.</summary>
internal sealed record SimulatorReply(SimulatorReplyKind Kind, string? Tool = null, JsonElement ToolSchema = default, string? Arguments = null, string? Text = null);

internal sealed partial class SimulatorPlan
{
    /// <summary>
    /// The reply a cooperative model gives, or null for plain words. In order: the script's step for this turn
    /// (<c>[[sim:call=…]]</c>, <c>[[sim:say=…]]</c>); a tool that <c>tool_choice</c> names or requires (the one the
    /// last user message mentions, else the first offered); with <c>tool_choice: auto</c>, a tool the last user message
    /// mentions by name; JSON when <c>response_format</c> asks for it.
    /// </summary>
    public static SimulatorReply? ChooseReply(SimulatorRequest request, SimulatorDirectives directives)
    {
        var tools = request.Tools;
        if (tools.ScriptTurn < directives.Script.Count)
        {
            var step = directives.Script[tools.ScriptTurn];
            return step.Tool is { } name
                ? new SimulatorReply(SimulatorReplyKind.ToolCall, name, tools.Find(name)?.Parameters ?? default, step.Arguments)
                : new SimulatorReply(SimulatorReplyKind.Text, Text: step.Text);
        }

        var mentioned = tools.LastUserText is { } text ? tools.Tools.FirstOrDefault(t => Mentions(text, t.Name)) : null;
        var tool = tools.Mode switch
        {
            SimulatorToolMode.Named => tools.Find(tools.NamedTool!),
            SimulatorToolMode.Required => mentioned ?? tools.Tools[0],
            SimulatorToolMode.Auto => mentioned,
            _ => null,
        };
        if (tool is not null)
        {
            return new SimulatorReply(SimulatorReplyKind.ToolCall, tool.Name, tool.Parameters);
        }

        return tools.JsonOutput ? new SimulatorReply(SimulatorReplyKind.Json) : null;
    }

    private static SimulatorPlan CreateStructured(SimulatorRequest request, SimulatorDirectives directives, SimulatorReply reply, ulong hash)
    {
        long reasoning = directives.Reasoning;
        long cap = long.MaxValue;
        if (request.MaxTokens is int max && !directives.IgnoreMaxTokens)
        {
            reasoning = Math.Min(reasoning, max);
            cap = max - reasoning;
        }

        bool truncated = false;
        var choices = new string[request.ChoiceCount][];
        var pieceTokens = new int[request.ChoiceCount][];
        var calls = new SimulatorToolCall[request.ChoiceCount][];
        for (int i = 0; i < choices.Length; i++)
        {
            ulong seed = hash + ((ulong)i * 0x9E3779B97F4A7C15);
            choices[i] = [];
            pieceTokens[i] = [];
            calls[i] = [];
            if (reply.Kind == SimulatorReplyKind.ToolCall)
            {
                string arguments = reply.Arguments ?? (reply.ToolSchema.ValueKind == JsonValueKind.Object
                    ? SimulatorSchemaValue.Generate(reply.ToolSchema, seed)
                    : "{}");
                var (pieces, tokens, cut) = SimulatorPieces.Split(arguments, request.Counter, cap);
                truncated |= cut;
                calls[i] = [new SimulatorToolCall("call_sim" + seed.ToString("x16", CultureInfo.InvariantCulture), reply.Tool!, pieces, tokens)];
            }
            else
            {
                string text = reply.Kind == SimulatorReplyKind.Text ? reply.Text! : JsonAnswer(request, seed);
                var (pieces, tokens, cut) = SimulatorPieces.Split(text, request.Counter, cap);
                truncated |= cut;
                choices[i] = pieces;
                pieceTokens[i] = tokens;
            }
        }

        return new SimulatorPlan
        {
            Choices = choices,
            PieceTokens = pieceTokens,
            ToolCalls = calls,
            FinishReason = truncated ? "length" : reply.Kind == SimulatorReplyKind.ToolCall ? "tool_calls" : "stop",
            PromptTokens = request.PromptTokens,
            CachedTokens = Math.Min(directives.Cached, request.PromptTokens),
            ReasoningTokens = reasoning,
            Fault = DescribeFaults(directives),
        };
    }

    // JSON that fits response_format: its schema's, or for json_object an object with the usual words as "answer".
    private static string JsonAnswer(SimulatorRequest request, ulong seed)
    {
        if (request.Tools.OutputSchema is { } schema)
        {
            return SimulatorSchemaValue.Generate(schema, seed);
        }

        string words = string.Concat(PickWords(seed, 0, 8 + (int)(seed % LengthSpread))).TrimStart();
        return "{\"answer\":" + JsonSerializer.Serialize(words, SimulatorJsonContext.Default.String) + "}";
    }

    // Whether the text names the tool as a word of its own (not inside a longer identifier).
    private static bool Mentions(string text, string name)
    {
        int at = 0;
        while ((at = text.IndexOf(name, at, StringComparison.OrdinalIgnoreCase)) >= 0)
        {
            bool before = at == 0 || !IsNameChar(text[at - 1]);
            bool after = at + name.Length >= text.Length || !IsNameChar(text[at + name.Length]);
            if (before && after)
            {
                return true;
            }

            at += name.Length;
        }

        return false;
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-';
}
