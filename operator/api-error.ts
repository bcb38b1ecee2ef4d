/**
 * One line of words for a failed request to the API server, for every log line and condition message.
 *
 * client-node's ApiException carries a multi-line message (code, body and the response headers); what a reader acts
 * on is the status code, the Status's reason and the server's message: "HTTP 409 Conflict: Operation cannot be ...".
 * Headers never reach a log.
 */
export function apiErrorText(err: unknown): string {
  if (err instanceof AggregateError) {
    return `${err.message}: ${err.errors.map(apiErrorText).join('; ')}`;
  }
  const e = (err ?? {}) as { code?: unknown; body?: unknown };
  const status = statusOf(e.body);
  const code = typeof e.code === 'number' ? e.code : status?.code;
  if (code !== undefined || status) {
    const head = [code === undefined ? '' : `HTTP ${code}`, status ? status.reason : exceptionMessage(err)]
      .filter(Boolean)
      .join(' ');
    const message = status ? status.message : bodyText(e.body);
    if (head || message) return [head, message].filter(Boolean).join(': ');
  }
  if (err instanceof Error) return firstLine(err.message);
  return firstLine(String(err));
}

/** The error of a failed step, and of the status write that tried to report it: neither hides the other. */
export function withStatusWriteError(err: unknown, statusErr: unknown): AggregateError {
  return new AggregateError([err, statusErr], 'the reconcile failed, and so did writing its status');
}

interface Status {
  code?: number;
  reason?: string;
  message?: string;
}

/** The Kubernetes Status in a response body (an object, or its JSON text), if it is one. */
function statusOf(body: unknown): Status | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Record<string, unknown>;
  if (s.kind !== 'Status' && typeof s.message !== 'string') return undefined;
  return {
    code: typeof s.code === 'number' ? s.code : undefined,
    reason: typeof s.reason === 'string' && s.reason ? s.reason : undefined,
    message: typeof s.message === 'string' && s.message ? firstLine(s.message) : undefined,
  };
}

/** ApiException's own message line ("Unauthorized", "Unknown API Status Code!"), which its constructor received. */
function exceptionMessage(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const line = err.message.split('\n').find((l) => l.startsWith('Message: '));
  return line?.slice('Message: '.length) || undefined;
}

/** A body that is not a Status (an HTML error page from a proxy, say): its first line, cut short. */
function bodyText(body: unknown): string | undefined {
  if (typeof body !== 'string' || !body.trim()) return undefined;
  return firstLine(body).slice(0, MAX_BODY);
}

const MAX_BODY = 200;

function firstLine(text: string): string {
  return text.trim().split('\n')[0]!.trim();
}
