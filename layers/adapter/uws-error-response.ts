/**
 * The responses the uWebSockets.js server writes itself: JSON errors (400/413/414/431/500),
 * with the same `{"detail": …}` bodies as the node:http server ({@link errorBody}).
 *
 * @module
 */
import type { HttpResponse } from "uWebSockets.js";
import type { HeaderList } from "./events.js";
import { STATUS_CODES } from "node:http";
import { errorBody } from "./node-error-response.js";

/** `"404 Not Found"`-style status lines, built once per status. */
const STATUS_LINES = new Map<number, string>();

/** The status line uWS's `writeStatus` takes: code and the standard reason phrase (node's table). */
export function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? "Unknown"}`;
    STATUS_LINES.set(status, line);
  }
  return line;
}

/**
 * Answers `res` with `status` and a JSON detail body, corked (safe inside and outside the
 * handler). With `close`, uWS adds `Connection: close` and closes after writing. `res` is invalid
 * afterwards: the caller must not touch it again.
 */
export function writeUwsError(res: HttpResponse, status: number, detail: string | undefined, close: boolean): void {
  const body = errorBody(status, detail);
  res.cork(() => {
    res.writeStatus(statusLine(status)).writeHeader("content-type", "application/json").end(body, close);
  });
}

/**
 * Answers `res` with a whole response (status, the given headers, body), corked, and closes the
 * connection after it. For answers that are not the app's HTTP response: WebSocket handshake
 * errors and denials. Framing headers in `headers` are skipped (uWS writes content-length).
 */
export function writeUwsResponse(res: HttpResponse, status: number, headers: HeaderList, body: Uint8Array | string): void {
  res.cork(() => {
    res.writeStatus(statusLine(status));
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      if (lower === "content-length" || lower === "transfer-encoding" || lower === "connection") continue;
      res.writeHeader(name, value);
    }
    res.end(body, true);
  });
}
