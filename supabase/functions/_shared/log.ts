/**
 * One JSON line per event on stdout, with the request id when there is one. Callers pass
 * facts, never secrets: tokens, keys and payload tokens are not logged.
 */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, err?: unknown, fields?: Record<string, unknown>): void;
}

function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.name, error_message: err.message };
  return err === undefined ? {} : { error: String(err) };
}

/** A logger that writes JSON lines; `sink` defaults to console.log. */
export function createLogger(
  base: Record<string, unknown> = {},
  sink: (line: string) => void = (l) => console.log(l),
): Logger {
  const write = (level: string, msg: string, fields: Record<string, unknown>) =>
    sink(JSON.stringify({ level, msg, ...base, ...fields, at: new Date().toISOString() }));
  return {
    info: (msg, fields = {}) => write("info", msg, fields),
    error: (msg, err, fields = {}) => write("error", msg, { ...errorFields(err), ...fields }),
  };
}

/** The request id a caller sent (`x-request-id`), or a new one. */
export function requestId(req: Request): string {
  const given = req.headers.get("x-request-id");
  return given && /^[\w.-]{1,100}$/.test(given) ? given : crypto.randomUUID();
}
