using Tollgate.Security;

namespace Tollgate.Proxy;

/// <summary>Request ids: the caller's <c>x-request-id</c> when it is sane, else a new one.</summary>
internal static class RequestIds
{
    public const string Header = "x-request-id";

    public static string FromCaller(string? supplied)
    {
        if (supplied is { Length: > 0 and <= 128 })
        {
            bool ok = true;
            foreach (char c in supplied)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
                {
                    ok = false;
                    break;
                }
            }

            if (ok)
            {
                return supplied;
            }
        }

        return New();
    }

    /// <summary>
    /// A new id: the time in milliseconds (12 hex digits), then 6 random bytes. Ids that sort by time keep the ledger's
    /// request-id index appending at its end instead of writing a random page of it for every record.
    /// </summary>
    public static string New() => BufferedRandom.TimeOrderedHexId("req_", TimeProvider.System.GetUtcNow(), 6);
}
