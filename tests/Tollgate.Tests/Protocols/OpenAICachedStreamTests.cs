using System.Text;
using System.Text.Json;
using Tollgate.Protocols.OpenAI;
using Tollgate.Tests.Pipeline;

namespace Tollgate.Tests.Protocols;

public sealed class OpenAICachedStreamTests
{
    private const string Stored = "{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"m-2025\",\"choices\":["
        + "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"潮汐 follow 🌊\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"},"
        + "{\"index\":1,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
        + "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],"
        + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13,\"cost_nanousd\":999},\"system_fingerprint\":\"fp_1\"}";

    [Fact]
    public void Write_WithUsage_ChunksPerChoiceThenTheUsageChunkWithTheHitsCost()
    {
        using var request = StepHarness.Parse(StepHarness.ChatBody("m", ",\"stream\":true,\"stream_options\":{\"include_usage\":true}"));

        var events = Events(OpenAICachedStream.Write(request, Encoding.UTF8.GetBytes(Stored), 42));

        Assert.Equal(5, events.Count);
        Assert.Equal("{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m-2025\",\"system_fingerprint\":\"fp_1\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"潮汐 follow 🌊\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],"
            + "\"usage\":null}", events[0]);
        Assert.Equal("{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m-2025\",\"system_fingerprint\":\"fp_1\","
            + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}", events[1]);
        using (var tool = JsonDocument.Parse(events[2]))
        {
            var call = tool.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0];
            Assert.Equal((0, "call_1", "{}"), (call.GetProperty("index").GetInt32(), call.GetProperty("id").GetString(),
                call.GetProperty("function").GetProperty("arguments").GetString()));
        }

        Assert.Equal("{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m-2025\",\"system_fingerprint\":\"fp_1\","
            + "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13,\"cost_nanousd\":42}}", events[4]);
    }

    [Fact]
    public void Write_WithoutUsage_NoUsageChunkAndNoUsageFields()
    {
        using var request = StepHarness.Parse(StepHarness.ChatBody("m", ",\"stream\":true"));

        var events = Events(OpenAICachedStream.Write(request, Encoding.UTF8.GetBytes(Stored), 42));

        Assert.Equal(4, events.Count);
        Assert.DoesNotContain(events, e => e.Contains("usage", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_LegacyCompletion_TextChunkThenFinishChunk()
    {
        const string Text = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"Tides rise.\","
            + "\"logprobs\":null,\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3,\"total_tokens\":5}}";
        using var request = StepHarness.Parse("{\"model\":\"m\",\"prompt\":\"Tides\",\"stream\":true}", Tollgate.Protocols.ProtocolEndpoint.OpenAICompletions);

        var events = Events(OpenAICachedStream.Write(request, Encoding.UTF8.GetBytes(Text), 0));

        Assert.Equal(
        [
            "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"Tides rise.\",\"logprobs\":null,\"finish_reason\":null}]}",
            "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"length\"}]}",
        ], events);
    }

    private static List<string> Events(ReadOnlyMemory<byte> stream)
    {
        string text = Encoding.UTF8.GetString(stream.Span);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        return [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e =>
        {
            Assert.StartsWith("data: ", e, StringComparison.Ordinal);
            return e["data: ".Length..];
        })];
    }
}
