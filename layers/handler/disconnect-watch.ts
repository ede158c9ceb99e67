/**
 * Learning, while a response streams, that the client has gone.
 *
 * After a disconnect the servers' `send()` resolves without writing (ASGI: a send after the
 * disconnect is a no-op), so a loop that only awaits `send()` would read a whole file into the
 * void. The only report of the disconnect is `receive()`'s `http.disconnect`, so a streaming
 * response reads `receive()` in the background and checks the flag between chunks.
 *
 * @module
 */
import type { Receive } from "../adapter/events.js";
import { BodyTooLargeError } from "../../lib/errors.js";

/** A flag that turns true once the client is known to have left. */
export interface DisconnectWatch {
  readonly disconnected: boolean;
}

/**
 * Reads `receive()` until `http.disconnect` and raises the flag then. Request-body events that
 * arrive first are discarded (the response is already being sent; nobody else will read them).
 * Both servers resolve the pending `receive()` when the response completes or the connection
 * closes, so the loop never outlives its request.
 *
 * If `receive()` rejects, the flag stays down, except for a body over the size limit, after which
 * the server has already answered and closed: a second reader elsewhere (`one receive() at a
 * time`) means the caller gets no disconnect report and simply streams to the end, as before.
 */
export function watchDisconnect(receive: Receive): DisconnectWatch {
  const watch = { disconnected: false };
  void (async () => {
    try {
      for (;;) {
        const event = await receive();
        if (event.type === "http.disconnect") {
          watch.disconnected = true;
          return;
        }
      }
    } catch (err) {
      if (err instanceof BodyTooLargeError) watch.disconnected = true;
    }
  })();
  return watch;
}
