/**
 * Sending an iterable as a response body: what {@link StreamingResponse} and `EventSourceResponse`
 * do between the response start and the last chunk (Starlette's `StreamingResponse.__call__`).
 *
 * Three things matter, and each is easy to get wrong:
 * - **Backpressure.** Each chunk is pulled only after the previous `send()` resolved, and the
 *   servers resolve it only when the socket can take more (node's `drain`, uWS's `onWritable`).
 *   A producer is therefore never more than one chunk ahead of the socket, however fast it is.
 * - **Disconnects.** After the client left, `send()` resolves without writing (ASGI), so a loop
 *   that only awaits `send()` would run an endless generator forever, into the void. The only
 *   report is `receive()`'s `http.disconnect`, so `receive()` is read in the background (past any
 *   unread request body) and the wait for the next chunk is raced against it, as Starlette's
 *   `listen_for_disconnect` task group does. On disconnect the iterator's `return()` is called
 *   (an async generator's `finally` runs, a `Readable` is destroyed) and nothing more is sent.
 * - **Errors.** An iterable that throws after the head went out cannot become a 500: the error
 *   propagates, the error layer logs and re-raises it, and the server closes the connection, so the
 *   client sees a truncated body (no terminating chunk), never a clean end.
 *
 * Deliberately left out: cancelling an `await` inside a generator. JavaScript cannot interrupt an
 * async generator that is suspended at an `await` (not at a `yield`): its `return()` waits for that
 * `await` to settle. So the request's signal ({@link requestSignal}) is aborted on disconnect too;
 * a generator that waits on something abortable (`events.on(emitter, name, { signal })`, `fetch`)
 * then ends at once.
 *
 * @module
 */
import type { HttpResponseBodyEvent, HttpScope, Receive, Send } from "../adapter/events.js";
import { Readable } from "node:stream";
import { BodyTooLargeError, ClientDisconnectedError } from "../../lib/errors.js";
import { abortRequest } from "../middleware/request-signal.js";

/** One chunk of a streamed body: text (sent UTF-8 encoded) or bytes. */
export type BodyChunk = string | Uint8Array;

/**
 * What a streamed body can be produced from: an async iterable (an async generator, a node
 * `Readable`, a web `ReadableStream`), a sync iterable (an array, a generator), or one chunk.
 */
export type BodySource = AsyncIterable<BodyChunk> | Iterable<BodyChunk> | BodyChunk;

/** The background reader of `receive()`: a flag and a promise, both settled by `http.disconnect`. */
interface DisconnectListener {
  disconnected: boolean;
  /** Resolves with {@link DISCONNECTED} on disconnect; never settles otherwise. */
  readonly promise: Promise<typeof DISCONNECTED>;
}

/** The value the disconnect promise resolves with, told apart from an iterator result by identity. */
const DISCONNECTED: unique symbol = Symbol("disconnected");

const FINAL: HttpResponseBodyEvent = { type: "http.response.body", body: new Uint8Array(0), moreBody: false };

/**
 * Reads `receive()` until `http.disconnect`. Request-body events that come first are discarded:
 * the handler has answered, nobody else will read them. Both servers resolve a pending `receive()`
 * when the response completes or the connection closes, so the loop never outlives its request.
 *
 * A `receive()` that rejects leaves the listener silent (the body stream is then simply sent to
 * its end), except a body over the size limit: the server has answered 413 and closed already.
 */
function listenForDisconnect(receive: Receive): DisconnectListener {
  let resolve!: (value: typeof DISCONNECTED) => void;
  const listener: DisconnectListener = {
    disconnected: false,
    promise: new Promise<typeof DISCONNECTED>((r) => (resolve = r)),
  };
  const fire = (): void => {
    listener.disconnected = true;
    resolve(DISCONNECTED);
  };
  void (async () => {
    try {
      for (;;) {
        const event = await receive();
        if (event.type === "http.disconnect") return fire();
      }
    } catch (err) {
      if (err instanceof BodyTooLargeError) fire();
    }
  })();
  return listener;
}

/** The iterator of a body source, sync or async; a single chunk is a one-element source. */
function iteratorOf(source: BodySource): Iterator<BodyChunk> | AsyncIterator<BodyChunk> {
  // A string or byte array is itself iterable (by character, by number): one chunk, not many.
  if (typeof source === "string" || source instanceof Uint8Array) return [source][Symbol.iterator]();
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  if (Symbol.iterator in source) return source[Symbol.iterator]();
  throw new TypeError("a streamed body must be an iterable or an async iterable of strings or Uint8Arrays");
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function checkChunk(chunk: unknown): BodyChunk {
  if (typeof chunk === "string" || chunk instanceof Uint8Array) return chunk;
  const kind = chunk === null ? "null" : typeof chunk === "object" ? (chunk.constructor?.name ?? "object") : typeof chunk;
  throw new TypeError(`a streamed body chunk must be a string or a Uint8Array, got ${kind}`);
}

/**
 * Stops a source that will not be read to its end (exported for wrappers of a source, such as
 * `EventSourceResponse`'s event stream). While the iterator is suspended at a `yield`
 * (`running` false), `return()` runs its `finally` at once and is awaited, so cleanup errors
 * surface. While a `next()` is still pending (`running` true), an async generator queues the
 * `return()` until that `next()` settles, so it is not awaited (its outcome has nowhere to go);
 * a `Readable` is destroyed directly, which also ends its pending read.
 */
export async function stopSource<T>(source: unknown, iterator: Iterator<T> | AsyncIterator<T>, running: boolean): Promise<void> {
  if (source instanceof Readable) source.destroy();
  if (iterator.return === undefined) return;
  if (!running) {
    await iterator.return();
    return;
  }
  try {
    const result = iterator.return() as IteratorResult<T> | Promise<IteratorResult<T>>;
    if (isPromise(result)) result.then(undefined, () => {});
  } catch {
    // A hand-written iterator whose return() throws while a next() is pending: nothing to report to.
  }
}

/**
 * Sends a response start, then every chunk of `source` with `moreBody: true` (awaiting each
 * `send()`), then an empty final chunk. With `receive`, stops early when the client disconnects
 * (see the module comment); with `scope` too, the request's signal is aborted then.
 *
 * Rejects with whatever the source or `send()` throws; the source is stopped first when the
 * failure came from elsewhere than the source itself.
 */
export async function sendStream(
  send: Send,
  start: { status: number; headers: Array<[string, string]> },
  source: BodySource,
  scope?: HttpScope,
  receive?: Receive,
): Promise<void> {
  const iterator = iteratorOf(source);
  const listener = receive === undefined ? undefined : listenForDisconnect(receive);
  let running = false;
  try {
    await send({ type: "http.response.start", status: start.status, headers: start.headers });
    for (;;) {
      if (listener?.disconnected === true) return await disconnected(source, iterator, false, scope);
      running = true;
      let step = iterator.next();
      if (isPromise(step)) {
        const raced = listener === undefined ? await step : await Promise.race([step, listener.promise]);
        if (raced === DISCONNECTED) return await disconnected(source, iterator, true, scope);
        step = raced;
      }
      running = false;
      if (step.done === true) break;
      await send({ type: "http.response.body", body: checkChunk(step.value), moreBody: true });
    }
  } catch (err) {
    // Thrown by the source itself (running): it has ended, there is nothing to stop. Thrown by
    // send() or by a bad chunk: stop the source so its cleanup runs, then report the first error.
    if (!running) await stopSource(source, iterator, false).catch(() => {});
    throw err;
  }
  await send(FINAL);
}

async function disconnected(
  source: BodySource,
  iterator: Iterator<BodyChunk> | AsyncIterator<BodyChunk>,
  running: boolean,
  scope: HttpScope | undefined,
): Promise<void> {
  // Abort first: a generator awaiting something abortable then settles, and the queued return() runs.
  if (scope !== undefined) abortRequest(scope, new ClientDisconnectedError("while the response was being streamed"));
  await stopSource(source, iterator, running);
}
