namespace Tollgate.FunctionalTests.Infrastructure;

/// <summary>
/// Sets <c>x-request-id</c> on the requests of an <see cref="HttpClient"/> (the Anthropic SDK's), and records the
/// statuses and <c>retry-after</c> headers of its answers, so a test can find the ledger record of a call and see
/// what the SDK saw.
/// </summary>
internal sealed class RequestIdHandler() : DelegatingHandler(new HttpClientHandler())
{
    public string Next { get; set; } = "";

    /// <summary>The requests sent, in order.</summary>
    public List<(string RequestId, int Status, string? RetryAfter, string? ShouldRetry)> Sent { get; } = [];

    public string Use() => Next = "test-" + Guid.NewGuid().ToString("n");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove("x-request-id");
        request.Headers.TryAddWithoutValidation("x-request-id", Next);
        var response = await base.SendAsync(request, cancellationToken);
        lock (Sent)
        {
            Sent.Add((Next, (int)response.StatusCode,
                response.Headers.TryGetValues("retry-after", out var wait) ? wait.First() : null,
                response.Headers.TryGetValues("x-should-retry", out var retry) ? retry.First() : null));
        }

        return response;
    }
}
