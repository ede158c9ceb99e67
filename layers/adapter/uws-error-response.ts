/**
 * The small JSON error responses the uWebSockets.js server writes itself (400/413/414/431/500),
 * with the same `{"detail": …}` bodies as the node:http server ({@link errorBody}).
 *
 * @module
 */
import type { HttpResponse } from "uWebSockets.js";
import { defaultReason } from "../../lib/errors.js";
import { errorBody } from "./node-error-response.js";

/** `"404 Not Found"`-style status lines, built once per status. */
const STATUS_LINES = new Map<number, string>();

/** The status line uWS's `writeStatus` takes: code and reason phrase. */
export function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `${status} ${defaultReason(status)}`;
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
