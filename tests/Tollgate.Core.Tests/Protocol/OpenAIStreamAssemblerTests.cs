using System.Text;
using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class OpenAIStreamAssemblerTests
{
    private const string Head = "\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m-2025\",\"system_fingerprint\":\"fp_1\"";
    private const string Usage = "{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13,\"completion_tokens_details\":{\"reasoning_tokens\":0}}";

    [Fact]
    public void Finish_ChatStream_AssemblesTheWholeAnswer()
    {
        string[] events =
        [
            Chunk(0, "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", null),
            Chunk(0, "{\"content\":\"Tides \"}", null),
            Chunk(0, "{\"content\":\"follow 🌊 the \\\"moon\\\".\"}", null),
            Chunk(0, "{}", "stop"),
            "{" + Head + ",\"choices\":[],\"usage\":" + Usage + "}",
        ];

        string answer = Assemble(events, chat: true)!;

        Assert.Equal("{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"m-2025\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":\"Tides follow 🌊 the \\\"moon\\\".\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + "\"usage\":" + Usage + ",\"system_fingerprint\":\"fp_1\"}", answer);
        Assert.True(OpenAIStoredAnswers.IsStorable(ApiEndpoint.ChatCompletions, Encoding.UTF8.GetBytes(answer)));
    }

    [Fact]
    public void Finish_SeveralChoicesInterleaved_EachInItsPlace()
    {
        string[] events =
        [
            Chunk(1, "{\"role\":\"assistant\",\"content\":\"B\"}", null),
            Chunk(0, "{\"role\":\"assistant\",\"content\":\"A\"}", null),
            Chunk(1, "{\"content\":\"b\"}", "length"),
            Chunk(0, "{\"content\":\"a\"}", "stop"),
            "{" + Head + ",\"choices\":[],\"usage\":" + Usage + "}",
        ];

        using var document = JsonDocument.Parse(Assemble(events, chat: true)!);
        var choices = document.RootElement.GetProperty("choices");

        Assert.Equal(("Aa", "stop"), (choices[0].GetProperty("message").GetProperty("content").GetString(), choices[0].GetProperty("finish_reason").GetString()));
        Assert.Equal(("Bb", "length", 1), (choices[1].GetProperty("message").GetProperty("content").GetString(), choices[1].GetProperty("finish_reason").GetString(),
            choices[1].GetProperty("index").GetInt32()));
    }

    [Fact]
    public void Finish_ToolCallsAndLogprobs_MergedByIndex()
    {
        string[] events =
        [
            Chunk(0, "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}", null),
            Chunk(0, "{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}", null),
            Chunk(0, "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"x\\\":1}\"}}]}", null, "{\"content\":[{\"token\":\"a\",\"logprob\":-0.1}]}"),
            Chunk(0, "{}", "tool_calls", "{\"content\":[{\"token\":\"b\",\"logprob\":-0.2}]}"),
            "{" + Head + ",\"choices\":[],\"usage\":" + Usage + "}",
        ];

        using var document = JsonDocument.Parse(Assemble(events, chat: true)!);
        var choice = document.RootElement.GetProperty("choices")[0];
        var calls = choice.GetProperty("message").GetProperty("tool_calls");

        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        Assert.Equal(("call_a", "f", "{\"x\":1}"), (calls[0].GetProperty("id").GetString(), calls[0].GetProperty("function").GetProperty("name").GetString(),
            calls[0].GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal(("call_b", "g", "{}"), (calls[1].GetProperty("id").GetString(), calls[1].GetProperty("function").GetProperty("name").GetString(),
            calls[1].GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal(2, choice.GetProperty("logprobs").GetProperty("content").GetArrayLength());
    }

    [Fact]
    public void Finish_LegacyCompletionStream_JoinsTheText()
    {
        string head = "\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\"";
        string[] events =
        [
            "{" + head + ",\"choices\":[{\"text\":\"Tides \",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}",
            "{" + head + ",\"choices\":[{\"text\":\"rise.\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]}",
            "{" + head + ",\"choices\":[],\"usage\":" + Usage + "}",
        ];

        string answer = Assemble(events, chat: false)!;

        Assert.Equal("{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"Tides rise.\","
            + "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":" + Usage + "}", answer);
    }

    [Theory]
    [InlineData("content_filter")]
    [InlineData("error event")]
    [InlineData("no finish")]
    [InlineData("no usage")]
    [InlineData("unknown delta field")]
    [InlineData("legacy function_call")]
    [InlineData("not json")]
    [InlineData("no choices")]
    public void Finish_AnythingButACompleteUnderstoodAnswer_IsNotStored(string fault)
    {
        var events = new List<string> { Chunk(0, "{\"role\":\"assistant\",\"content\":\"Hi\"}", null) };
        switch (fault)
        {
            case "error event":
                events.Add("{\"error\":{\"message\":\"overloaded\"}}");
                break;
            case "unknown delta field":
                events.Add(Chunk(0, "{\"audio\":{\"data\":\"AAA=\"}}", null));
                break;
            case "legacy function_call":
                events.Add(Chunk(0, "{\"function_call\":{\"name\":\"f\"}}", null));
                break;
            case "not json":
                events.Add("{\"choices\":");
                break;
            case "no choices":
                events.Clear();
                break;
        }

        if (fault is not ("no finish" or "no choices"))
        {
            events.Add(Chunk(0, "{}", fault == "content_filter" ? "content_filter" : "stop"));
        }

        if (fault != "no usage")
        {
            events.Add("{" + Head + ",\"choices\":[],\"usage\":" + Usage + "}");
        }

        Assert.Null(Assemble(events, chat: true));
    }

    [Fact]
    public void Finish_LargerThanAllowed_IsNotStored()
    {
        string[] events =
        [
            Chunk(0, "{\"role\":\"assistant\",\"content\":\"" + new string('x', 600) + "\"}", null),
            Chunk(0, "{}", "stop"),
            "{" + Head + ",\"choices\":[],\"usage\":" + Usage + "}",
        ];

        Assert.NotNull(Assemble(events, chat: true, maxBytes: 1024));
        Assert.Null(Assemble(events, chat: true, maxBytes: 600));
    }

    private static string Chunk(int index, string delta, string? finish, string? logprobs = null) =>
        "{" + Head + ",\"choices\":[{\"index\":" + index + ",\"delta\":" + delta + ",\"logprobs\":" + (logprobs ?? "null")
        + ",\"finish_reason\":" + (finish is null ? "null" : "\"" + finish + "\"") + "}],\"usage\":null}";

    private static string? Assemble(IEnumerable<string> events, bool chat, int maxBytes = 1 << 20)
    {
        var assembler = OpenAIUpstreamProtocol.Instance.AssembleStream(chat ? ApiEndpoint.ChatCompletions : ApiEndpoint.Completions, maxBytes)!;
        foreach (string data in events)
        {
            assembler.Add(Encoding.UTF8.GetBytes(data));
        }

        return assembler.Finish() is { } answer ? Encoding.UTF8.GetString(answer) : null;
    }
}
