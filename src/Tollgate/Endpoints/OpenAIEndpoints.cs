using System.Buffers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Proxy;

namespace Tollgate.Endpoints;

/// <summary>The OpenAI-compatible API: the model endpoints, the model list, and a typed 404 for everything else under /v1.</summary>
internal static class OpenAIEndpoints
{
    public static IEndpointRouteBuilder MapOpenAIApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/chat/completions", (HttpContext http, ModelProxy proxy) => proxy.HandleAsync(http, ApiEndpoint.ChatCompletions));
        v1.MapPost("/completions", (HttpContext http, ModelProxy proxy) => proxy.HandleAsync(http, ApiEndpoint.Completions));
        v1.MapPost("/embeddings", (HttpContext http, ModelProxy proxy) => proxy.HandleAsync(http, ApiEndpoint.Embeddings));
        v1.MapGet("/models", (HttpContext http, ModelProxy proxy, GatewayConfigMonitor config) =>
            proxy.HandleAuthenticatedAsync(http, "models", exchange => WriteModelsAsync(exchange, config.Current)));
        v1.Map("/{**rest}", (HttpContext http, ModelProxy proxy) => proxy.RefuseUnroutedAsync(http,
            new GatewayError(404, ErrorTypes.InvalidRequest, ErrorCodes.NotFound,
                $"Unknown route: {http.Request.Method} {Bounded(http.Request.Path.Value)}. Tollgate serves /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/models.")));
        return app;
    }

    private static Task WriteModelsAsync(Exchange exchange, GatewayConfig config)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var model in config.Models)
            {
                if (!config.IsAllowed(exchange.Caller!.Plan, model))
                {
                    continue;
                }

                writer.WriteStartObject();
                writer.WriteString("id", model.Name);
                writer.WriteString("object", "model");
                writer.WriteNumber("created", 0);
                writer.WriteString("owned_by", "tollgate");
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var response = exchange.Http.Response;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    private static string Bounded(string? value) => value is null ? "" : value.Length > 80 ? value[..80] + "…" : value;
}
