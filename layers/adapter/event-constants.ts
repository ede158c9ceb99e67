/**
 * Frozen receive events every adapter hands out, created once: the disconnect, and the empty
 * final body of a request that has none. Each also as a pre-resolved promise, so `receive()` can
 * answer them without allocating.
 *
 * @module
 */
import type { HttpDisconnectEvent, HttpRequestEvent, ReceiveEvent } from "./events.js";

/** `{ type: "http.disconnect" }`. */
export const DISCONNECT: HttpDisconnectEvent = Object.freeze({ type: "http.disconnect" as const });
/** {@link DISCONNECT}, resolved. */
export const DISCONNECT_PROMISE: Promise<ReceiveEvent> = Promise.resolve(DISCONNECT);
/** The empty, final body event. */
export const FINAL_EMPTY: HttpRequestEvent = Object.freeze({ type: "http.request" as const, body: new Uint8Array(0), moreBody: false });
/** {@link FINAL_EMPTY}, resolved. */
export const FINAL_EMPTY_PROMISE: Promise<ReceiveEvent> = Promise.resolve(FINAL_EMPTY);
