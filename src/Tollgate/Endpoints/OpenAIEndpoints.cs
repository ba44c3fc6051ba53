using System.Buffers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Pipeline;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Proxy;

namespace Tollgate.Endpoints;

/// <summary>
/// The OpenAI-compatible API: the model endpoints, the model list and a model, and a typed 404 for everything else
/// under /v1. Every route authenticates first, so a caller without a valid key learns nothing about routes or models.
/// </summary>
internal static class OpenAIEndpoints
{
    public static IEndpointRouteBuilder MapOpenAIApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/chat/completions", (HttpContext http, RequestPipeline pipeline) => pipeline.HandleAsync(http, ProtocolEndpoint.OpenAIChatCompletions));
        v1.MapPost("/completions", (HttpContext http, RequestPipeline pipeline) => pipeline.HandleAsync(http, ProtocolEndpoint.OpenAICompletions));
        v1.MapPost("/embeddings", (HttpContext http, RequestPipeline pipeline) => pipeline.HandleAsync(http, ProtocolEndpoint.OpenAIEmbeddings));
        v1.MapPost("/responses", (HttpContext http, RequestPipeline pipeline) => pipeline.HandleAsync(http, ProtocolEndpoint.OpenAIResponses));
        v1.MapResponseInputTokens();
        v1.MapStoredResponses();
        // A caller that sends anthropic-version (every Anthropic SDK, Claude Code) gets Anthropic's shapes.
        v1.MapGet("/models", (HttpContext http, RequestPipeline pipeline, GatewayConfigMonitor config) => AnthropicEndpoints.IsAnthropicCaller(http.Request)
            ? Anthropic(http, pipeline, "models", exchange => AnthropicEndpoints.WriteModelsAsync(exchange, config.Current))
            : pipeline.HandleAuthenticatedAsync(http, "models", exchange => WriteModelsAsync(exchange, config.Current)));
        v1.MapGet("/models/{id}", (HttpContext http, string id, RequestPipeline pipeline, GatewayConfigMonitor config) => AnthropicEndpoints.IsAnthropicCaller(http.Request)
            ? Anthropic(http, pipeline, "models.retrieve", exchange => AnthropicEndpoints.WriteModelAsync(exchange, id, config.Current))
            : pipeline.HandleAuthenticatedAsync(http, "models.retrieve", exchange => WriteModelAsync(exchange, id, config.Current)));
        v1.Map("/{**rest}", (HttpContext http, RequestPipeline pipeline) =>
        {
            Func<RequestContext, Task<GatewayError?>> notFound = _ => Task.FromResult<GatewayError?>(new GatewayError(404, ErrorTypes.InvalidRequest, ErrorCodes.NotFound,
                $"Unknown route: {http.Request.Method} {Display.Bounded(http.Request.Path.Value, 80)}. Tollgate serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses, /v1/messages, /v1/messages/count_tokens, /v1/models and /v1/models/{{model}}."));
            return AnthropicEndpoints.IsAnthropicCaller(http.Request)
                ? Anthropic(http, pipeline, "unrouted", notFound)
                : pipeline.HandleAuthenticatedAsync(http, "unrouted", notFound);
        });
        return app;
    }

    private static Task Anthropic(HttpContext http, RequestPipeline pipeline, string name, Func<RequestContext, Task<GatewayError?>> respond)
    {
        AnthropicEndpoints.EchoRequestId(http);
        return pipeline.HandleAuthenticatedAsync(http, name, respond, Protocols.Anthropic.AnthropicCallerProtocol.Instance);
    }

    private static async Task<GatewayError?> WriteModelsAsync(RequestContext exchange, GatewayConfig config)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var model in config.Models)
            {
                if (config.IsAllowed(exchange.Caller!.Plan, model))
                {
                    WriteModel(writer, model);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await WriteJsonAsync(exchange, buffer).ConfigureAwait(false);
        return null;
    }

    // A model outside the caller's plan gets the very answer a nonexistent one gets: the plan's contents stay private.
    private static async Task<GatewayError?> WriteModelAsync(RequestContext exchange, string id, GatewayConfig config)
    {
        exchange.RequestedModel = id;
        if (!config.TryGetModel(id, out var model) || !config.IsAllowed(exchange.Caller!.Plan, model))
        {
            return new GatewayError(404, ErrorTypes.InvalidRequest, ErrorCodes.ModelNotFound, $"The model '{Display.Bounded(id, 80)}' does not exist.", "model");
        }

        exchange.Model = model;
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteModel(writer, model);
        }

        await WriteJsonAsync(exchange, buffer).ConfigureAwait(false);
        return null;
    }

    private static void WriteModel(Utf8JsonWriter writer, ModelDefinition model)
    {
        writer.WriteStartObject();
        writer.WriteString("id", model.Name);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", 0);
        writer.WriteString("owned_by", "tollgate");
        writer.WriteEndObject();
    }

    private static Task WriteJsonAsync(RequestContext exchange, ArrayBufferWriter<byte> buffer)
    {
        var response = exchange.Http.Response;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
