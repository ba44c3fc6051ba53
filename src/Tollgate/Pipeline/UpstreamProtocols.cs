using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Pipeline;

/// <summary>The upstream side of the protocol each upstream kind speaks.</summary>
internal static class UpstreamProtocols
{
    /// <summary>Every kind Tollgate knows today (<c>openai</c>, <c>simulator</c>) speaks OpenAI's API.</summary>
    public static IUpstreamProtocol For(UpstreamOptions upstream) => OpenAIUpstreamProtocol.Instance;
}
