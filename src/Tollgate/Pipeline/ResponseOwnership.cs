using System.Data.Common;
using System.Text.Json;
using Tollgate.Protocol;
using Tollgate.Responses;

namespace Tollgate.Pipeline;

/// <summary>
/// Records which key created a stored response (Responses API), with what its request billed — before the response
/// reaches the caller, so the caller's next request (a retrieval, a continuation) finds it. A request with
/// <c>store: false</c> stores nothing upstream and records nothing.
/// </summary>
internal static partial class ResponseOwnership
{
    public static async ValueTask RecordAsync(RequestContext context, string responseId)
    {
        if (context.Request is not { Endpoint: ApiEndpoint.Responses } request || context.Caller?.KeyId is not { } keyId || context.Model is null
            || context.Reservation is null || IsNotStored(request))
        {
            return;
        }

        var services = context.Http.RequestServices;
        var store = services.GetRequiredService<IResponseOwnerStore>();
        // A background response is billed when it ends: until then its chain is reserved at its worst case.
        var usage = context.Background is null ? context.Reservation.Usage
            : new Pricing.TokenUsage(context.Reservation.Admission.InputTokens, 0, context.Reservation.Admission.ReservedOutput, 0);
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        try
        {
            await store.RecordAsync(new StoredResponse(responseId, keyId, context.Model.Name, usage.InputTokens, usage.OutputTokens, now),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (DbException e)
        {
            // The response was generated and billed; only its later retrieval through the gateway is lost.
            LogNotRecorded(services.GetRequiredService<ILogger<RequestContext>>(), context.RequestId, e);
        }
    }

    private static bool IsNotStored(ModelRequest request) =>
        request.Document.RootElement.TryGetProperty("store", out var store) && store.ValueKind == JsonValueKind.False;

    [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "Request {RequestId}: the owner of its stored response could not be recorded")]
    private static partial void LogNotRecorded(ILogger logger, string requestId, Exception exception);
}
