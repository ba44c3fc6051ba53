using System.Buffers;

namespace Tollgate.Protocol;

/// <summary>A choice and a tool call as assembled so far.</summary>
public sealed partial class OpenAIStreamAssembler
{
    /// <summary>One choice as assembled so far.</summary>
    private sealed class Choice
    {
        // Message text fields in the order they first appeared; null while only null values arrived.
        public List<(string Name, ArrayBufferWriter<byte>? Text)> Texts { get; } = [];

        public List<(string Name, List<byte[]> Tokens)> LogProbParts { get; } = [];

        public SortedDictionary<int, ToolCall> ToolCalls { get; } = [];

        public byte[]? Role { get; set; }

        public byte[]? FinishReason { get; set; }

        public bool HasText(string name) => Texts.Exists(t => t.Name == name);

        public void Seen(string name)
        {
            if (!HasText(name))
            {
                Texts.Add((name, null));
            }
        }

        public ArrayBufferWriter<byte> Text(string name)
        {
            int at = Texts.FindIndex(t => t.Name == name);
            if (at >= 0 && Texts[at].Text is { } existing)
            {
                return existing;
            }

            var text = new ArrayBufferWriter<byte>();
            if (at >= 0)
            {
                Texts[at] = (name, text);
            }
            else
            {
                Texts.Add((name, text));
            }

            return text;
        }

        public List<byte[]> LogProbs(string name)
        {
            int at = LogProbParts.FindIndex(p => p.Name == name);
            if (at >= 0)
            {
                return LogProbParts[at].Tokens;
            }

            var tokens = new List<byte[]>();
            LogProbParts.Add((name, tokens));
            return tokens;
        }
    }

    /// <summary>One tool call as assembled so far.</summary>
    private sealed class ToolCall
    {
        public byte[]? Id { get; set; }

        public byte[]? Type { get; set; }

        public ArrayBufferWriter<byte> Name { get; } = new();

        public ArrayBufferWriter<byte> Arguments { get; } = new();
    }
}
