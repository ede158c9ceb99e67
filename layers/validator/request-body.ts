/**
 * Reads a request body from the event interface's `receive` channel.
 *
 * @module
 */
import { BodyTooLargeError, ClientDisconnectedError, ProtocolError } from "../../lib/errors.js";
import type { Receive, ReceiveEvent } from "../adapter/events.js";

const EMPTY = Buffer.alloc(0);

/**
 * Reads `http.request` events until `moreBody` is false and returns the body.
 *
 * A body that arrives in one chunk is returned without copying (a view on the same memory);
 * several chunks are concatenated once, at the end. The byte count is checked as chunks arrive,
 * so an over-long body is refused before it is all held in memory (the server enforces its own
 * limit too; this one is the app's, and may be lower).
 *
 * @throws BodyTooLargeError past `maxBytes` (413).
 * @throws ClientDisconnectedError on `http.disconnect` before the end.
 * @throws ProtocolError on any other event.
 */
export async function readBody(receive: Receive, maxBytes: number): Promise<Buffer> {
  return readBodyFrom(await receive(), receive, maxBytes);
}

/**
 * The body whose first event the caller already awaited. The common case — the whole body in
 * that one event — returns at once, with no async frame of its own; the pipeline uses it to spare
 * a promise and a microtask per request.
 */
export function wholeBodyOrRest(first: ReceiveEvent, receive: Receive, maxBytes: number): Buffer | Promise<Buffer> {
  if (first.type === "http.request" && !first.moreBody && first.body.byteLength <= maxBytes) return asBuffer(first.body);
  return readBodyFrom(first, receive, maxBytes);
}

function asBuffer(body: Uint8Array): Buffer {
  if (body.byteLength === 0) return EMPTY;
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

async function readBodyFrom(firstEvent: ReceiveEvent, receive: Receive, maxBytes: number): Promise<Buffer> {
  let first: Uint8Array | undefined;
  let chunks: Uint8Array[] | undefined;
  let total = 0;
  for (let event = firstEvent; ; event = await receive()) {
    if (event.type === "http.request") {
      const length = event.body.byteLength;
      if (length > 0) {
        total += length;
        if (total > maxBytes) throw new BodyTooLargeError(maxBytes);
        if (first === undefined) first = event.body;
        else (chunks ??= [first]).push(event.body);
      }
      if (!event.moreBody) break;
    } else if (event.type === "http.disconnect") {
      throw new ClientDisconnectedError("while the request body was being read");
    } else {
      throw new ProtocolError("http.request or http.disconnect", event.type);
    }
  }
  if (chunks !== undefined) return Buffer.concat(chunks, total);
  if (first === undefined) return EMPTY;
  return asBuffer(first);
}
