using Microsoft.Extensions.Primitives;
using Tollgate.Limits;

namespace Tollgate.Proxy;

/// <summary>
/// Which task a request belongs to, from its headers: the explicit <c>x-tollgate-task</c> wins; otherwise the first
/// of the plan's <see cref="Configuration.PlanOptions.TaskHeaders"/> the request carries (an agent's own session id,
/// such as Claude Code's <c>x-claude-code-session-id</c> or Codex's <c>session_id</c>).
/// </summary>
internal static class TaskHeaders
{
    /// <summary>The task id and the header it came from, or (null, null) when the request names no task.</summary>
    public static (string? Task, string? Header) Resolve(IHeaderDictionary headers, IReadOnlyList<string>? planHeaders)
    {
        if (First(headers[AdmissionPolicy.TaskHeader]) is { } explicitTask)
        {
            return (explicitTask, AdmissionPolicy.TaskHeader);
        }

        if (planHeaders is not null)
        {
            for (int i = 0; i < planHeaders.Count; i++)
            {
                if (First(headers[planHeaders[i]]) is { } session)
                {
                    return (session, planHeaders[i]);
                }
            }
        }

        return (null, null);
    }

    private static string? First(StringValues values) => values.Count == 0 || string.IsNullOrEmpty(values[0]) ? null : values[0];
}
