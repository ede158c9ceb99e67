/**
 * The 500 the error layer answers when nothing else could: a fixed JSON body, or the error's name,
 * message and stack in debug mode.
 *
 * @module
 */
import type { Send } from "../adapter/events.js";

const INTERNAL_ERROR_BODY = '{"detail":"Internal Server Error"}';

/** Sends a complete 500 response through `send` (rejects if a response had already started). */
export async function sendServerError(send: Send, error: unknown, debug: boolean): Promise<void> {
  const body = debug
    ? JSON.stringify({
        detail: "Internal Server Error",
        error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      })
    : INTERNAL_ERROR_BODY;
  await send({
    type: "http.response.start",
    status: 500,
    headers: [
      ["content-type", "application/json"],
      ["content-length", String(Buffer.byteLength(body))],
    ],
  });
  await send({ type: "http.response.body", body, moreBody: false });
}
