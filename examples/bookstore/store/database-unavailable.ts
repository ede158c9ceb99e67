/**
 * What a request sees when the database cannot give it a connection: 503 Service Unavailable with
 * `Retry-After` (RFC 9110 §15.6.4: a temporary overload), instead of a bare 500 or a request that
 * hangs until the client gives up.
 *
 * The causes are all "no connection now, maybe soon": every pooled client stayed busy for the
 * pool's wait (`DATABASE_POOL_TIMEOUT_MS`), the server refused a new connection because it is at
 * `max_connections` (SQLSTATE 53300) or starting up or shutting down (57P03, 57P01), or it cannot
 * be reached at all. The cause is logged once per request, with the pool's counters; the client
 * gets no detail about the database.
 *
 * @module
 */
import { HttpException } from "../../../lib/errors.js";

/** Seconds a client is told to wait before retrying. */
export const RETRY_AFTER_SECONDS = 1;

/** The 503 a request gets when no database connection can be had. */
export class DatabaseUnavailable extends HttpException {
  constructor(override readonly cause: unknown) {
    super(503, "The database is busy or unavailable; try again shortly", [["retry-after", String(RETRY_AFTER_SECONDS)]]);
  }

  override get name(): string {
    return "DatabaseUnavailable";
  }
}

// SQLSTATEs of a server that refuses connections for now (PostgreSQL appendix A, class 53 and 57).
const UNAVAILABLE_SQLSTATES = new Set(["53300", "57P01", "57P02", "57P03"]);
// Socket errors of a server that is down or unreachable.
const UNAVAILABLE_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
// node-postgres reports its timeouts by message only: pg-pool's wait for a client, and pg's handshake.
const UNAVAILABLE_MESSAGES = ["timeout exceeded when trying to connect", "Connection terminated due to connection timeout"];

/** True when `error` means "no connection now", as opposed to a query the database refused. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
  return UNAVAILABLE_MESSAGES.some((message) => error.message.includes(message));
}

/**
 * A one-line description of a connection error. Node reports a refused `localhost` (tried on ::1
 * and 127.0.0.1) as an AggregateError with an empty message: its parts say what happened.
 */
export function describeConnectionError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(describeConnectionError).join("; ");
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (error.message !== "") return error.message;
    if (typeof code === "string") return code;
  }
  return String(error);
}
