/**
 * A complete, small response sent by a middleware before the app runs (a 400 for a bad Host, a
 * redirect), on an HTTP scope as `http.response.*`, on a WebSocket scope as the handshake's denial
 * response (`websocket.http.response.*`), so both get a real status (Starlette's `Response` does
 * the same by prefixing its events with `websocket.`).
 *
 * @module
 */
import type { ConnectionScope, HeaderList, Send } from "../adapter/events.js";
import { denialSend } from "./websocket-guard.js";

/** Sends `status` with `headers` and a UTF-8 `body` (content-length added), then ends the response. */
export async function sendEarlyResponse(scope: ConnectionScope, send: Send, status: number, headers: HeaderList, body: string): Promise<void> {
  const out = scope.type === "websocket" ? denialSend(send) : send;
  await out({ type: "http.response.start", status, headers: [...headers, ["content-length", String(Buffer.byteLength(body))]] });
  await out({ type: "http.response.body", body, moreBody: false });
}

/** A plain-text response: `text/plain; charset=utf-8`. */
export function sendPlainText(scope: ConnectionScope, send: Send, status: number, text: string): Promise<void> {
  return sendEarlyResponse(scope, send, status, [["content-type", "text/plain; charset=utf-8"]], text);
}

/** A 307 Temporary Redirect to `location` (method and body preserved, RFC 9110 §15.4.8), empty body. */
export function sendRedirect(scope: ConnectionScope, send: Send, location: string): Promise<void> {
  return sendEarlyResponse(scope, send, 307, [["location", location]], "");
}
