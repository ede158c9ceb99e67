/**
 * The response half of the event protocol as a three-state machine, shared by every server's
 * adapter: `idle` (nothing sent) → `started` (`http.response.start` accepted) → `complete` (a body
 * event with `moreBody: false` accepted). Anything else is a {@link ProtocolError} whose message
 * names what was expected and what arrived ("expected http.response.start, got
 * http.response.body"), the way uvicorn's `h11_impl.py` `send()` reports ASGI misuse.
 *
 * The state is a small integer kept on the adapter's per-request object, so checking an event
 * costs two comparisons and allocates nothing; an error object is built only on misuse.
 *
 * Deliberately left out: the request half (`receive()` has no protocol to break) and WebSocket
 * events (their own machine arrives with the uWebSockets.js server).
 *
 * @module
 */
import type { HeaderList, SendEvent } from "./events.js";
import { LaminarError, ProtocolError, ResponseNotCompletedError } from "../../lib/errors.js";

/** No response event accepted yet. */
export const RESPONSE_IDLE = 0;
/** `http.response.start` accepted; body events may follow. */
export const RESPONSE_STARTED = 1;
/** The final body event (`moreBody` false or absent) accepted; nothing may follow. */
export const RESPONSE_COMPLETE = 2;

/** One of {@link RESPONSE_IDLE}, {@link RESPONSE_STARTED}, {@link RESPONSE_COMPLETE}. */
export type ResponseState = typeof RESPONSE_IDLE | typeof RESPONSE_STARTED | typeof RESPONSE_COMPLETE;

/** What each state expects next, as the "expected X" half of a protocol error message. */
const EXPECTED: readonly string[] = ["http.response.start", "http.response.body", "nothing (response complete)"];

/**
 * Returns the state after `event`, or throws {@link ProtocolError} when `event` is not allowed in
 * `state`. Does not look at anything but `type` and `moreBody`: validating status and headers is
 * the adapter's job (it knows what its server accepts).
 *
 * @example
 * let s: ResponseState = RESPONSE_IDLE;
 * s = advanceResponseState(s, { type: "http.response.start", status: 200, headers: [] }); // RESPONSE_STARTED
 * advanceResponseState(s, { type: "http.response.start", status: 200, headers: [] });
 * // throws ProtocolError: "Protocol error: expected http.response.body, got http.response.start"
 */
export function advanceResponseState(state: ResponseState, event: SendEvent): ResponseState {
  const type = event.type;
  if (state === RESPONSE_IDLE) {
    if (type === "http.response.start") return RESPONSE_STARTED;
  } else if (state === RESPONSE_STARTED) {
    if (type === "http.response.body") return event.moreBody ? RESPONSE_STARTED : RESPONSE_COMPLETE;
  }
  throw protocolError(state, event);
}

/**
 * Everything every adapter checks about one `send()` event before acting on it, in one place:
 * that it is an event at all, that it is allowed in `state`, a start's status (an integer
 * 100..599) and header list, and a body's type. Returns the error to reject `send()` with, or
 * null. The two common cases (a start when idle, a body when started) cost a few comparisons.
 */
export function checkSendEvent(state: ResponseState, event: SendEvent): LaminarError | null {
  if (typeof event !== "object" || event === null) return protocolError(state, event);
  if (event.type === "http.response.start" && state === RESPONSE_IDLE) {
    const status = event.status;
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      return new ProtocolError("an integer status between 100 and 599", String(status));
    }
    if (!Array.isArray(event.headers)) {
      return new ProtocolError("headers as an array of [name, value] pairs", typeof event.headers);
    }
    return null;
  }
  if (event.type !== "http.response.body" || state !== RESPONSE_STARTED) return protocolError(state, event);
  const body = event.body;
  if (body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array)) {
    return new ProtocolError("a string or Uint8Array body", typeof body);
  }
  return null;
}

/** Builds the {@link ProtocolError} for `event` arriving in `state` (without throwing it). */
export function protocolError(state: ResponseState, event: SendEvent | { type?: unknown }): LaminarError {
  const got = event !== null && typeof event === "object" && typeof event.type === "string" ? event.type : describe(event);
  return new ProtocolError(EXPECTED[state], got);
}

/**
 * What to report when the app has returned: `null` when the response is complete, otherwise a
 * {@link ResponseNotCompletedError} saying how far it got (Starlette/uvicorn: "ASGI callable
 * returned without completing response").
 */
export function responseNotCompleted(state: ResponseState): LaminarError | null {
  if (state === RESPONSE_COMPLETE) return null;
  return new ResponseNotCompletedError(state === RESPONSE_IDLE ? "no http.response.start sent" : "response started, final http.response.body not sent");
}

/** A short description of a value that is not an event, for error messages. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return "an object without a string type";
}

/**
 * The content-length the app set on its response head, if it set a valid one (any case). Both
 * adapters frame a streamed body by it: uWS sends it with `tryEnd`, node:http checks the bytes
 * against it (`strictContentLength`).
 */
export function declaredContentLength(list: HeaderList): number | undefined {
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!;
    if (name.length === 14 && name.toLowerCase() === "content-length" && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}
