using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Tollgate.Simulator.Tests;

/// <summary>
/// The simulator plays along with tools and structured output: required or named tools get tool calls whose arguments
/// fit the tool's schema, <c>response_format</c> gets JSON that fits, and a script of turns drives an agent loop.
/// </summary>
public sealed class SimulatorToolTests
{
    private const string WeatherSchema = """
        {"type":"object","properties":{
          "city":{"type":"string","minLength":3},
          "unit":{"type":"string","enum":["celsius","fahrenheit"]},
          "days":{"type":"integer","minimum":1,"maximum":7},
          "hourly":{"type":"boolean"},
          "tags":{"type":"array","items":{"type":"string"},"minItems":2,"maxItems":4},
          "near":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/point"}]}},
         "required":["city","unit","days","hourly","tags","near"],"additionalProperties":false,
         "$defs":{"point":{"type":"object","properties":{"lat":{"type":"number","minimum":-90,"maximum":90},"lon":{"type":"number"}},"required":["lat","lon"],"additionalProperties":false}}}
        """;

    [Theory]
    [InlineData("\"required\"")]
    [InlineData("{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}")]
    public async Task RequiredOrNamedTool_ToolCallWhoseArgumentsFitTheSchema(string toolChoice)
    {
        using var host = new SimulatorTestHost();
        var body = WithTools(SimulatorTestHost.Chat("What should I wear tomorrow?"), toolChoice);

        var reply = await host.PostJsonAsync("chat/completions", body, "t1");

        var choice = reply.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.StartsWith("call_sim", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        AssertFits(WeatherSchema, call.GetProperty("function").GetProperty("arguments").GetString()!);
        var bill = host.Engine.Billing.Find("t1")!;
        Assert.Equal(bill.CompletionTokens, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.InRange(bill.CompletionTokens, 10, 200);
    }

    [Fact]
    public async Task AutoToolChoice_CallsAToolOnlyWhenTheUserNamesIt()
    {
        using var host = new SimulatorTestHost();

        var named = await host.PostJsonAsync("chat/completions", WithTools(SimulatorTestHost.Chat("Use get_time, then tell me."), null));
        var plain = await host.PostJsonAsync("chat/completions", WithTools(SimulatorTestHost.Chat("Just chat with me."), null));
        var none = await host.PostJsonAsync("chat/completions", WithTools(SimulatorTestHost.Chat("Use get_time."), "\"none\""));

        var call = Assert.Single(named.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("get_time", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{}", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.False(plain.GetProperty("choices")[0].GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.Equal("stop", plain.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.False(none.GetProperty("choices")[0].GetProperty("message").TryGetProperty("tool_calls", out _));
    }

    [Fact]
    public async Task NamedToolNotOffered_400()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostAsync("chat/completions", WithTools(SimulatorTestHost.Chat("x"), "{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("no function named 'nope'", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonSchemaFormat_ContentFitsTheSchema_AndJsonObjectGetsAnObject()
    {
        using var host = new SimulatorTestHost();
        var structured = SimulatorTestHost.Chat("Weather report, please.");
        structured["response_format"] = new JsonObject
        {
            ["type"] = "json_schema",
            ["json_schema"] = new JsonObject { ["name"] = "report", ["strict"] = true, ["schema"] = JsonNode.Parse(WeatherSchema) },
        };
        var loose = SimulatorTestHost.Chat("Anything, as JSON.");
        loose["response_format"] = new JsonObject { ["type"] = "json_object" };

        var a = await host.PostJsonAsync("chat/completions", structured, "j1");
        var b = await host.PostJsonAsync("chat/completions", loose);

        string content = a.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        AssertFits(WeatherSchema, content);
        Assert.Equal(host.Engine.Billing.Find("j1")!.CompletionTokens, a.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        using var answer = JsonDocument.Parse(b.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!);
        Assert.Equal(JsonValueKind.String, answer.RootElement.GetProperty("answer").ValueKind);
    }

    [Fact]
    public async Task Script_CallsTheToolWithTheGivenArguments_ThenAnswers()
    {
        using var host = new SimulatorTestHost();
        const string prompt = """Write the file. [[sim:call=Write {"file_path":"/tmp/a.txt","content":"hi [there]"}]] [[sim:say=done]]""";
        var first = WithTools(SimulatorTestHost.Chat(prompt), null);

        var turn1 = await host.PostJsonAsync("chat/completions", first);
        var call = Assert.Single(turn1.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("Write", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"file_path":"/tmp/a.txt","content":"hi [there]"}""", call.GetProperty("function").GetProperty("arguments").GetString());

        var second = WithTools(SimulatorTestHost.Chat(prompt), null);
        var messages = second["messages"]!.AsArray();
        messages.Add(JsonNode.Parse(turn1.GetProperty("choices")[0].GetProperty("message").GetRawText()));
        messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = call.GetProperty("id").GetString(), ["content"] = "written" });
        var turn2 = await host.PostJsonAsync("chat/completions", second);

        Assert.Equal("done", turn2.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", turn2.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        // Past the script's end the model talks as usual.
        messages.Add(JsonNode.Parse(turn2.GetProperty("choices")[0].GetProperty("message").GetRawText()));
        messages.Add(new JsonObject { ["role"] = "user", ["content"] = "thanks" });
        var turn3 = await host.PostJsonAsync("chat/completions", second);
        Assert.InRange(SimulatorTestHost.CountText(turn3.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!), 8, 40);
    }

    [Fact]
    public async Task Script_MalformedCall_400()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:call=Write {not json}]]"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task StreamedToolCall_HeadThenArgumentPieces_SameArgumentsAndBillAsPlain()
    {
        using var host = new SimulatorTestHost();
        var plain = await host.PostJsonAsync("chat/completions", WithTools(SimulatorTestHost.Chat("stream the weather"), "\"required\""), "p");
        var body = SimulatorTestHost.Streaming(WithTools(SimulatorTestHost.Chat("stream the weather"), "\"required\""), includeUsage: true);

        using var response = await host.PostAsync("chat/completions", body, "s", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var chunks = SseReader.Parse(await reader.ReadAllAsync());

        var deltas = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("tool_calls", out _))
            .Select(d => d.GetProperty("tool_calls")[0]).ToList();
        Assert.Equal("get_weather", deltas[0].GetProperty("function").GetProperty("name").GetString());
        Assert.StartsWith("call_sim", deltas[0].GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.All(deltas[1..], d => Assert.False(d.TryGetProperty("id", out _)));
        string arguments = string.Concat(deltas.Select(d => d.GetProperty("function").GetProperty("arguments").GetString()));
        var expected = plain.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString();
        Assert.Equal(expected, arguments);
        Assert.Equal("tool_calls", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(host.Engine.Billing.Find("p")!.CompletionTokens, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal(host.Engine.Billing.Find("p")!.CompletionTokens, host.Engine.Billing.Find("s")!.CompletionTokens);
    }

    [Fact]
    public async Task CutToolCallStream_BillsThePiecesSent()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Streaming(WithTools(SimulatorTestHost.Chat("[[sim:cut=5]] weather"), "\"required\""), includeUsage: true);

        using var response = await host.PostAsync("chat/completions", body, "c", HttpCompletionOption.ResponseHeadersRead);
        string sentArguments;
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            var pieces = new List<string>();
            try
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    if (line.StartsWith("data: {", StringComparison.Ordinal))
                    {
                        using var chunk = JsonDocument.Parse(line[6..]);
                        var delta = chunk.RootElement.GetProperty("choices")[0].GetProperty("delta");
                        if (delta.TryGetProperty("tool_calls", out var calls))
                        {
                            pieces.Add(calls[0].GetProperty("function").GetProperty("arguments").GetString()!);
                        }
                    }
                }
            }
            catch (HttpRequestException)
            {
                // The cut.
            }
            catch (IOException)
            {
                // The cut.
            }

            sentArguments = string.Concat(pieces);
        }

        var bill = host.Engine.Billing.Find("c")!;
        Assert.False(bill.Completed);
        Assert.Equal(SimulatorTestHost.CountText(sentArguments), bill.CompletionTokens);
        Assert.True(bill.CompletionTokens > 0);
    }

    [Fact]
    public async Task MaxTokens_TruncatesTheArguments_FinishLength()
    {
        using var host = new SimulatorTestHost();
        var body = WithTools(SimulatorTestHost.Chat("weather"), "\"required\"");
        body["max_tokens"] = 4;

        var reply = await host.PostJsonAsync("chat/completions", body);

        Assert.Equal("length", reply.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(4, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
    }

    [Fact]
    public void SchemaValue_SameSeedSameValue_AndRecursionEnds()
    {
        using var recursive = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}},"required":["name","children"]}""");

        string a = SimulatorSchemaValue.Generate(recursive.RootElement, 42);
        string b = SimulatorSchemaValue.Generate(recursive.RootElement, 42);

        Assert.Equal(a, b);
        AssertFits(recursive.RootElement.GetRawText(), a);
    }

    [Fact]
    public async Task Messages_ScriptedToolUse_ThenTheAnswer_PlainAndStreamed()
    {
        using var host = new SimulatorTestHost();
        const string prompt = """Write it. [[sim:call=Write {"file_path":"/tmp/a.txt","content":"hi"}]] [[sim:say=done]]""";
        var first = MessagesWithTools(prompt);

        var turn1 = await host.PostJsonAsync("messages", first, "m1");
        Assert.Equal("tool_use", turn1.GetProperty("stop_reason").GetString());
        var block = Assert.Single(turn1.GetProperty("content").EnumerateArray());
        Assert.Equal(("tool_use", "Write"), (block.GetProperty("type").GetString(), block.GetProperty("name").GetString()));
        Assert.StartsWith("toolu_sim", block.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("""{"file_path":"/tmp/a.txt","content":"hi"}""", block.GetProperty("input").GetRawText());
        Assert.Equal(host.Engine.Billing.Find("m1")!.CompletionTokens, turn1.GetProperty("usage").GetProperty("output_tokens").GetInt64());

        // The same turn streamed: a tool_use block whose input arrives in input_json_delta pieces.
        var streamed = MessagesWithTools(prompt);
        streamed["stream"] = true;
        using var response = await host.PostAsync("messages", streamed, "m2", HttpCompletionOption.ResponseHeadersRead);
        string sse = await response.Content.ReadAsStringAsync();
        var data = sse.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l[6..]).RootElement).ToList();
        var start = data.Single(d => d.GetProperty("type").GetString() == "content_block_start");
        Assert.Equal("tool_use", start.GetProperty("content_block").GetProperty("type").GetString());
        string input = string.Concat(data.Where(d => d.GetProperty("type").GetString() == "content_block_delta")
            .Select(d => d.GetProperty("delta").GetProperty("partial_json").GetString()));
        Assert.Equal("""{"file_path":"/tmp/a.txt","content":"hi"}""", input);
        Assert.Equal("tool_use", data.Single(d => d.GetProperty("type").GetString() == "message_delta").GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(host.Engine.Billing.Find("m1")!.CompletionTokens, host.Engine.Billing.Find("m2")!.CompletionTokens);

        // The tool result comes back in a user message: the script's next step answers.
        var second = MessagesWithTools(prompt);
        var messages = second["messages"]!.AsArray();
        messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = JsonNode.Parse(turn1.GetProperty("content").GetRawText()) });
        messages.Add(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = block.GetProperty("id").GetString(), ["content"] = "written" }),
        });
        var turn2 = await host.PostJsonAsync("messages", second);
        Assert.Equal("end_turn", turn2.GetProperty("stop_reason").GetString());
        Assert.Equal("done", turn2.GetProperty("content")[0].GetProperty("text").GetString());
    }

    private static JsonObject MessagesWithTools(string prompt) => new()
    {
        ["model"] = "claude-test",
        ["max_tokens"] = 256,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
        ["tools"] = new JsonArray(new JsonObject
        {
            ["name"] = "Write",
            ["description"] = "Writes a file",
            ["input_schema"] = JsonNode.Parse("""{"type":"object","properties":{"file_path":{"type":"string"},"content":{"type":"string"}},"required":["file_path","content"]}"""),
        }),
    };

    private static JsonObject WithTools(JsonObject body, string? toolChoice)
    {
        body["tools"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "get_weather", ["description"] = "Weather", ["parameters"] = JsonNode.Parse(WeatherSchema) },
            },
            new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "get_time", ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() } },
            },
            new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "Write", ["parameters"] = new JsonObject { ["type"] = "object" } },
            });
        if (toolChoice is not null)
        {
            body["tool_choice"] = JsonNode.Parse(toolChoice);
        }

        return body;
    }

    private static void AssertFits(string schemaText, string json)
    {
        var schema = JsonSchema.FromText(schemaText);
        using var document = JsonDocument.Parse(json);
        var result = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{json} does not fit the schema: {string.Join("; ", result.Details?.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Values) ?? [])}");
    }
}
