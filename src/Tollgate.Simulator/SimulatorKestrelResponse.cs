using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tollgate.Simulator;

/// <summary>A simulated response written to a real Kestrel connection (<c>tollgate simulate</c>).</summary>
/// <remarks>
/// A cut does not abort the connection: an abort can discard bytes still queued in the transport, so the client
/// might never see the chunks sent before the cut. Instead the cut response declares a longer
/// <c>Content-Length</c> than it sends and ends; Kestrel then closes the connection after the last byte (logging
/// "too few bytes written") and the client's read fails with "response ended prematurely".
/// </remarks>
internal sealed class SimulatorKestrelResponse(HttpContext context) : ISimulatorResponse
{
    /// <inheritdoc/>
    public PipeWriter Start(SimulatorResponseHead head)
    {
        var response = context.Response;
        response.StatusCode = head.StatusCode;
        response.ContentType = head.ContentType + "; charset=utf-8";
        response.Headers[SimulatorResponseHead.RequestIdHeader] = head.RequestId;
        response.ContentLength = head.ContentLength;
        if (head.RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        if (head.ContentType == SimulatorResponseHead.EventStream)
        {
            response.Headers.CacheControl = "no-cache";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        }

        return response.BodyWriter;
    }

    /// <inheritdoc/>
    public void Abort()
    {
        // Nothing to do: the declared Content-Length is not reached, so Kestrel closes the connection.
    }

    /// <inheritdoc/>
    public ValueTask CompleteAsync() => new(context.Response.CompleteAsync());
}
