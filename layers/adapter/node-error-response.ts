/**
 * The small JSON error responses the node:http server and adapter write themselves, before or
 * instead of the app: `{"detail": "<reason>"}` like FastAPI's error bodies, never a stack.
 *
 * Two forms: {@link writeErrorResponse} for a request node parsed (we have a `ServerResponse`),
 * {@link rawErrorResponse} for bytes node could not parse (only the socket is left, in the
 * server's `clientError` handler).
 *
 * @module
 */
import type { ServerResponse } from "node:http";
import { defaultReason } from "../../lib/errors.js";

/** The JSON body for `status`: `{"detail":"<detail or reason phrase>"}`. */
export function errorBody(status: number, detail?: string): string {
  return JSON.stringify({ detail: detail ?? defaultReason(status) });
}

/**
 * Answers `res` with `status` and a JSON detail body. With `close`, adds `connection: close` so
 * node ends the connection after the response (used when unread request bytes make the
 * connection unusable: 413, 414, a malformed path).
 */
export function writeErrorResponse(res: ServerResponse, status: number, detail: string | undefined, close: boolean): void {
  const body = errorBody(status, detail);
  if (close) res.shouldKeepAlive = false;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * A complete HTTP/1.1 error response as one string, always with `connection: close` (the
 * connection is dropped after it: once the parser failed, where the next request starts is unknown,
 * RFC 9112 §9.3/§11.2 on request smuggling).
 */
export function rawErrorResponse(status: number, detail?: string): string {
  const body = errorBody(status, detail);
  return (
    `HTTP/1.1 ${status} ${defaultReason(status)}\r\n` +
    "content-type: application/json\r\n" +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    "connection: close\r\n\r\n" +
    body
  );
}
