using Microsoft.Net.Http.Headers;
using Tollgate.Audit;
using Tollgate.Protocol;
using Tollgate.Proxy;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Steps 1 and 3: the media type is checked before anything else is read, and — once the caller is known — the body
/// is read (refused as soon as it passes <c>Gateway:MaxRequestBodyBytes</c>) and parsed by the endpoint's reader
/// into the neutral <see cref="ModelRequest"/>.
/// </summary>
internal static class ReadRequestStep
{
    /// <summary>The body must be uncompressed JSON in UTF-8.</summary>
    public static GatewayError? CheckMediaType(HttpRequest request)
    {
        string? encoding = request.Headers.ContentEncoding;
        if (!string.IsNullOrEmpty(encoding) && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return new GatewayError(415, ErrorTypes.InvalidRequest, ErrorCodes.UnsupportedMediaType,
                $"Compressed request bodies are not supported (Content-Encoding: {Display.Bounded(encoding)}).");
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return new GatewayError(415, ErrorTypes.InvalidRequest, ErrorCodes.UnsupportedMediaType,
                "The request body must be JSON: send 'Content-Type: application/json'.");
        }

        return null;
    }

    /// <summary>Reads and parses the body; on success <see cref="RequestContext.Request"/> is set.</summary>
    public static async ValueTask<GatewayError?> RunAsync(RequestContext context, IRequestReader reader)
    {
        var http = context.Http;
        long limit = context.Config.Options.Gateway.MaxRequestBodyBytes;
        var (outcome, body) = await RequestBodyReader.ReadAsync(http.Request, limit, http.RequestAborted).ConfigureAwait(false);
        if (outcome == RequestBodyReader.Outcome.TooLarge)
        {
            return new GatewayError(413, ErrorTypes.InvalidRequest, ErrorCodes.RequestTooLarge,
                $"The request body is larger than the limit of {limit} bytes.");
        }

        if (outcome == RequestBodyReader.Outcome.Aborted)
        {
            context.ClientAborted = true;
            return GatewayError.InvalidRequest("The request body could not be read.", code: AuditReasons.ClientAborted);
        }

        if (!reader.TryRead(body, out var request, out var error))
        {
            return error;
        }

        context.Request = request;
        context.RequestedModel = request!.Model;
        context.Stream = request.Stream;
        return null;
    }
}
