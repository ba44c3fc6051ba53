using System.Buffers;
using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Protocols.OpenAI;

/// <summary>
/// The one place a <see cref="GatewayError"/> becomes bytes: OpenAI's <c>{"error":{"message","type","param","code"}}</c>
/// as a response (with the retry headers and, for limit refusals, the caller's limits), or as a final SSE event once a
/// stream has started.
/// </summary>
internal static class OpenAIErrorWriter
{
    public static Task WriteAsync(HttpContext context, GatewayError error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        Proxy.RateLimitHeaders.WriteRetry(response.Headers, error.RetryAfter, error.ShouldRetry);
        if (error.Limits.Count > 0)
        {
            Proxy.RateLimitHeaders.Write(response.Headers, error.Limits, error.RefusedBy);
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        WriteBody(buffer, error);
        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory, CancellationToken.None).AsTask();
    }

    /// <summary>An error after a stream has started: <c>data: {"error":…}</c> and a blank line.</summary>
    public static byte[] SseEvent(GatewayError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("data: "u8);
        WriteBody(buffer, error);
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteBody(IBufferWriter<byte> buffer, GatewayError error)
    {
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", error.Message);
        writer.WriteString("type", error.Type);
        if (error.Param is null)
        {
            writer.WriteNull("param");
        }
        else
        {
            writer.WriteString("param", error.Param);
        }

        writer.WriteString("code", error.Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
