using System.Text.Json.Nodes;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// Well-formed request bodies for each model endpoint, in the shapes OpenAI clients send (system and tool
/// messages, content parts, tools, token arrays…), as raw material for <see cref="MalformedRequestBodies"/>.
/// </summary>
internal static class ValidRequestBodies
{
    public static JsonObject Chat(Random random)
    {
        var messages = new JsonArray
        {
            new JsonObject { ["role"] = "system", ["content"] = "Be brief." },
            new JsonObject { ["role"] = "user", ["content"] = "Hello there, how are you?", ["name"] = "bob" },
        };
        if (random.Next(3) == 0)
        {
            messages.Add(new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["id"] = "call_1",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
                }),
            });
            messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "sunny" });
        }

        if (random.Next(3) == 0)
        {
            messages.Add(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "text", ["text"] = "Describe this picture." },
                    new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "https://example.com/a.png", ["detail"] = "low" } }),
            });
        }

        var body = new JsonObject { ["model"] = random.Next(4) == 0 ? "sim-mini-latest" : "sim-mini", ["messages"] = messages };
        if (random.Next(2) == 0)
        {
            body["max_tokens"] = 16;
        }
        else
        {
            body["max_completion_tokens"] = 16;
        }

        bool stream = random.Next(3) == 0;
        if (stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = random.Next(2) == 0 };
        }

        AddSome(random, body,
            ("temperature", 0.5), ("top_p", 0.9), ("n", 1), ("seed", 42), ("presence_penalty", 0.1), ("frequency_penalty", 0.1),
            ("user", "user-1"), ("stop", new JsonArray("\n\n", "END")), ("logprobs", true), ("top_logprobs", 2),
            ("logit_bias", new JsonObject { ["50256"] = -100 }), ("response_format", new JsonObject { ["type"] = "json_object" }),
            ("tool_choice", "auto"), ("metadata", new JsonObject { ["purpose"] = "fuzz" }),
            ("tools", new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = "get_weather",
                    ["description"] = "Get the weather for a city",
                    ["parameters"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } },
                        ["required"] = new JsonArray("city"),
                    },
                },
            })));
        return body;
    }

    public static JsonObject Response(Random random)
    {
        JsonNode input = random.Next(3) switch
        {
            0 => "Hello there, how are you?",
            1 => new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "What is the weather in Paris?" },
                new JsonObject { ["type"] = "function_call", ["call_id"] = "call_1", ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
                new JsonObject { ["type"] = "function_call_output", ["call_id"] = "call_1", ["output"] = "sunny" }),
            _ => new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "input_text", ["text"] = "Describe this picture." },
                    new JsonObject { ["type"] = "input_image", ["image_url"] = "https://example.com/a.png", ["detail"] = "low" }),
            }),
        };
        var body = new JsonObject { ["model"] = random.Next(4) == 0 ? "sim-mini-latest" : "sim-mini", ["input"] = input, ["max_output_tokens"] = 16 };
        if (random.Next(3) == 0)
        {
            body["stream"] = true;
        }

        AddSome(random, body, ("instructions", "Be brief."), ("temperature", 0.5), ("top_p", 0.9), ("store", false),
            ("tool_choice", "auto"), ("metadata", new JsonObject { ["purpose"] = "fuzz" }), ("user", "user-1"),
            ("text", new JsonObject { ["format"] = new JsonObject { ["type"] = "json_object" } }),
            ("tools", new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["name"] = "get_weather",
                ["parameters"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } },
                },
            })));
        return body;
    }

    public static JsonObject Completion(Random random)
    {
        JsonNode prompt = random.Next(3) switch
        {
            0 => "Say hi",
            1 => new JsonArray("Say hi", "Say bye"),
            _ => new JsonArray(9906, 1917, 0),
        };
        var body = new JsonObject { ["model"] = "sim-mini", ["prompt"] = prompt, ["max_tokens"] = 16 };
        if (random.Next(4) == 0)
        {
            body["stream"] = true;
        }

        AddSome(random, body, ("n", 1), ("best_of", 1), ("echo", false), ("suffix", "end"), ("stop", "\n"), ("logprobs", 1),
            ("temperature", 0.2), ("user", "user-1"), ("seed", 7));
        return body;
    }

    public static JsonObject Embedding(Random random)
    {
        JsonNode input = random.Next(4) switch
        {
            0 => "The food was delicious.",
            1 => new JsonArray("first text", "second text"),
            2 => new JsonArray(9906, 1917),
            _ => new JsonArray(new JsonArray(9906, 1917), new JsonArray(15339)),
        };
        var body = new JsonObject { ["model"] = "sim-embed", ["input"] = input };
        AddSome(random, body, ("encoding_format", "float"), ("dimensions", 8), ("user", "user-1"));
        return body;
    }

    /// <summary>An Anthropic Messages body, in the shapes Claude Code and the Anthropic SDKs send.</summary>
    public static JsonObject Messages(Random random)
    {
        var messages = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = "Hello there, how are you?" } };
        if (random.Next(3) == 0)
        {
            messages.Add(new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject
                {
                    ["type"] = "tool_use", ["id"] = "toolu_1", ["name"] = "get_weather", ["input"] = new JsonObject { ["city"] = "Paris" },
                }),
            });
            messages.Add(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = "toolu_1", ["content"] = "sunny" },
                    new JsonObject { ["type"] = "text", ["text"] = "And tomorrow?", ["cache_control"] = new JsonObject { ["type"] = "ephemeral" } }),
            });
        }

        var body = new JsonObject { ["model"] = "sim-claude", ["max_tokens"] = 16, ["messages"] = messages };
        AddSome(random, body,
            ("system", new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Be brief." })),
            ("stream", true),
            ("temperature", 0.2),
            ("metadata", new JsonObject { ["user_id"] = "user-1" }),
            ("tools", new JsonArray(new JsonObject
            {
                ["name"] = "get_weather",
                ["description"] = "The weather.",
                ["input_schema"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } } },
            })));
        return body;
    }

    private static void AddSome(Random random, JsonObject body, params (string Name, JsonNode? Value)[] optional)
    {
        foreach (var (name, value) in optional)
        {
            if (random.Next(3) == 0)
            {
                body[name] = value?.DeepClone();
            }
        }
    }
}
