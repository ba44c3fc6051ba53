using System.Buffers;
using System.IO.Pipelines;

namespace Tollgate.Proxy;

/// <summary>Reads a request body into memory, refusing it as soon as it passes the size limit.</summary>
internal static class RequestBodyReader
{
    public enum Outcome
    {
        Ok,
        TooLarge,
        Aborted,
    }

    public static async Task<(Outcome Outcome, byte[] Body)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (Outcome.TooLarge, []);
        }

        PipeReader reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (buffer.Length > limit)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    return (Outcome.TooLarge, []);
                }

                if (result.IsCompleted)
                {
                    byte[] body = buffer.ToArray();
                    reader.AdvanceTo(buffer.End);
                    return (Outcome.Ok, body);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return (Outcome.Aborted, []);
        }
    }
}
