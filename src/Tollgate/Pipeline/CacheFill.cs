using Tollgate.Caching;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Pipeline;

/// <summary>
/// A request's answer on its way into the response cache: the relay steps hand it the answer as it arrives (a whole
/// body, or a stream's events assembled into the plain form), it decides whether the answer may be stored, publishes it
/// at once to the requests waiting on this one (single flight), and stores it when the request ends. Owned by the
/// request (<see cref="RequestContext.CacheFill"/>) and disposed on every path, so a flight it leads always ends —
/// with the answer, or with null, which sends the followers upstream themselves.
/// </summary>
internal sealed partial class CacheFill : IAsyncDisposable
{
    private readonly RequestContext _context;
    private readonly IUpstreamProtocol _protocol;
    private readonly IResponseCache _cache;
    private readonly ResponseFlights _flights;
    private readonly ResponseFlight? _flight;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private IStreamAnswerAssembler? _assembler;
    private CachedAnswer? _answer;
    private bool _fromStore;
    private bool _ended;

    // The output cap the key was computed with (it is in the forwarded body): a retry admitted with another cap (a plan
    // that clamps to what remains) sends another body, whose answer must not be stored under this key.
    private readonly long _outputCap;

    public CacheFill(RequestContext context, ResponseCacheKey key, ResponseFlight? flight, IUpstreamProtocol protocol, IResponseCache cache,
        ResponseFlights flights, TimeProvider time, ILogger logger)
    {
        _context = context;
        Key = key;
        _flight = flight;
        _protocol = protocol;
        _cache = cache;
        _flights = flights;
        _time = time;
        _logger = logger;
        _outputCap = context.Reservation?.Admission.OutputCap ?? -1;
    }

    public ResponseCacheKey Key { get; }

    /// <summary>The answer that will be stored, once one arrived that may be.</summary>
    public CachedAnswer? Answer => _answer;

    private int MaxEntryBytes => _context.Config.Options.Cache.MaxEntryBytes;

    /// <summary>The leader found the answer in the store: its followers get it too; nothing is stored again.</summary>
    public void Found(CachedAnswer stored)
    {
        _fromStore = true;
        Publish(stored);
    }

    /// <summary>A whole response whose usage the upstream reported: stored if it is a complete, successful answer.</summary>
    public void Body(byte[] body, in TokenUsage usage)
    {
        if (Storable() && body.Length <= MaxEntryBytes && _protocol.IsStorableAnswer(_context.Request!.Endpoint, body))
        {
            Publish(new CachedAnswer(body, usage));
        }
    }

    /// <summary>One stream event's data, in order (the end-of-stream marker excluded).</summary>
    public void Event(ReadOnlySpan<byte> data)
    {
        _assembler ??= _protocol.AssembleStream(_context.Request!.Endpoint, MaxEntryBytes) ?? NotAssembled.Instance;
        _assembler.Add(data);
    }

    /// <summary>The stream ended complete (its end marker arrived, nothing was cut) with the upstream's usage.</summary>
    public void StreamEnded(in TokenUsage usage)
    {
        if (Storable() && _assembler?.Finish() is { } body)
        {
            Publish(new CachedAnswer(body, usage));
        }
    }

    /// <summary>Stores the answer (if one may be stored) and ends the flight this request leads, if any. Only the first call counts.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        try
        {
            if (_answer is { } answer && !_fromStore)
            {
                var now = _time.GetUtcNow();
                await _cache.SetAsync(Key, answer, now + _context.Config.Options.Cache.Ttl, now, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The cache only saves work: a store that fails costs a later miss, never this request.
            LogStoreFailed(_logger, _context.RequestId, e);
        }
        finally
        {
            if (_flight is not null)
            {
                _flights.End(_flight);
            }
        }
    }

    // Never an answer from a fallback under the primary's key, nor one the upstream overran or misreported.
    private bool Storable() =>
        _answer is null && !_context.AnsweredByFallback && _context.Reservation is { Overshoot: false, Clamped: false } held
        && held.Admission.OutputCap == _outputCap;

    private void Publish(CachedAnswer answer)
    {
        _answer = answer;
        if (_flight is not null)
        {
            ResponseFlights.Publish(_flight, answer);
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Request {RequestId}: the answer could not be stored in the response cache")]
    private static partial void LogStoreFailed(ILogger logger, string requestId, Exception exception);

    /// <summary>The assembler of a protocol whose streams are never stored.</summary>
    private sealed class NotAssembled : IStreamAnswerAssembler
    {
        public static NotAssembled Instance { get; } = new();

        public void Add(ReadOnlySpan<byte> data)
        {
        }

        public byte[]? Finish() => null;
    }
}
