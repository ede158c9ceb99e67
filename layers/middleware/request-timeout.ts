/**
 * A per-request time limit, as middleware.
 *
 * This is not the supervisor's `--timeout`: that one is an event-loop liveness heartbeat (a worker
 * whose loop is blocked is killed), and a request that awaits a slow database never trips it
 * (Gunicorn users confuse the two, gunicorn#2562). This layer bounds each HTTP request: the whole
 * response must have been sent within `seconds` of the request reaching the layer.
 *
 * When the limit passes:
 * - **before the response started**: the client gets `503` (or `status`) with
 *   `{"detail":"Request timed out"}`, the same JSON shape as laminar's other error responses, and the
 *   layer returns at once, so the server and the test client are done with the request;
 * - **after it started**: the status line is gone and cannot be changed, so the connection is ended:
 *   the layer rejects with {@link RequestTimeoutError}, and the response-started invariant does the
 *   rest (the error layer logs it and re-raises, the adapter destroys the socket). The event
 *   interface has no "close this connection" event; failing after the start is its way to say it.
 *   The client sees a truncated response (a chunked body without its last chunk, or fewer bytes than
 *   the content-length), never a complete-looking one.
 *
 * Either way the handler is not killed (JavaScript cannot stop a running function); it is told and
 * cut off instead:
 * - the request's `AbortSignal` ({@link requestSignal}) aborts with a `TimeoutError` DOMException,
 *   so `fetch`, database drivers and loops that honour it stop;
 * - its `receive()` yields `http.disconnect` (a pending one is woken with it), as after a client
 *   disconnect;
 * - its later `send()` calls resolve without writing anything (ASGI's rule for sends after a
 *   disconnect), so its own success path does not throw;
 * - an error it raises afterwards is logged at debug level only: the request was already answered
 *   (and logged), a second 500 attempt would be a protocol error and a second error line noise;
 * - after-response cleanups (dependency teardown) it registers once it finally returns still run:
 *   the error layer ran its pass when this layer gave up, so this layer runs the late ones.
 *
 * The timer is cleared when the response completes, when the app returns or throws, and when it
 * fires: none outlives its request. WebSocket and lifespan scopes pass through untouched.
 *
 * Deliberately left out: per-route limits (mount the routes that need another limit, or that stream
 * for long, as a sub-app with its own middleware) and killing runaway synchronous code (that is what
 * the supervisor's heartbeat is for).
 *
 * @module
 */
import type { App, HttpScope, Receive, ReceiveEvent, Send, SendEvent } from "../adapter/events.js";
import { SENT } from "../adapter/events.js";
import { DISCONNECT, DISCONNECT_PROMISE } from "../adapter/event-constants.js";
import type { Middleware } from "./middleware.js";
import { LaminarError } from "../../lib/errors.js";
import { createLogger, type Logger } from "../../lib/logger.js";
import { hasAfterResponse, runAfterResponse } from "./after-response.js";
import { abortRequest } from "./request-signal.js";

/** Options of {@link requestTimeout}. */
export interface RequestTimeoutOptions {
  /** The limit in seconds (fractions allowed), for the whole response. Must be > 0 and finite. */
  seconds: number;
  /** Status of the answer when the limit passes before the response started: 400–599, default 503. */
  status?: number;
  /**
   * Where timeouts (warn) and errors raised after one (debug) are logged; pass `app.logger`.
   * Default: a pino logger ({@link createLogger}).
   */
  logger?: Logger;
}

/**
 * The request passed its time limit after the response had started: raised so the server ends the
 * connection. (Belongs in the error catalogue, `lib/errors.ts`, as `LMR_ERR_REQUEST_TIMEOUT`.)
 */
export class RequestTimeoutError extends LaminarError {
  constructor(seconds: number, statusCode: number) {
    super("LMR_ERR_REQUEST_TIMEOUT", `Request timed out after ${seconds} s, after the response had started`, statusCode);
  }
}

/** node turns a longer delay into 1 ms (with a TimeoutOverflowWarning): refuse it instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const TIMEOUT_BODY = '{"detail":"Request timed out"}';

/** Validated settings, shared by every request through one layer. */
interface TimeoutSettings {
  seconds: number;
  ms: number;
  status: number;
  logger: Logger;
}

/**
 * Creates the per-request timeout layer. Throws a `RangeError` for a `seconds` that is not a
 * positive finite number (0, negative, NaN, Infinity) or too large for a timer, and for a `status`
 * that is not an integer 400–599.
 *
 * @example
 * const app = new App();
 * app.use(requestTimeout({ seconds: 10, logger: app.logger }));
 * app.get("/report", async (ctx) => {
 *   const rows = await db.query(sql, { signal: requestSignal(ctx.scope) });
 *   return rows;
 * });
 */
export function requestTimeout(options: RequestTimeoutOptions): Middleware {
  const { seconds, status = 503 } = options;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new RangeError(`requestTimeout: seconds must be a positive finite number, got ${String(seconds)}`);
  }
  const ms = seconds * 1000;
  if (ms > MAX_TIMER_MS) throw new RangeError(`requestTimeout: seconds must be at most ${MAX_TIMER_MS / 1000}, got ${seconds}`);
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`requestTimeout: status must be an integer from 400 to 599, got ${String(status)}`);
  }
  const settings: TimeoutSettings = { seconds, ms, status, logger: options.logger ?? createLogger() };
  return (next: App): App =>
    function requestTimeoutLayer(scope, receive, send) {
      if (scope.type !== "http") return next(scope, receive, send);
      return new TimedRequest(settings, scope, receive, send).run(next);
    };
}

/** One request under the limit: the timer, the wrapped channels, and how the layer settles. */
class TimedRequest {
  private readonly settings: TimeoutSettings;
  private readonly scope: HttpScope;
  private readonly outerReceive: Receive;
  private readonly outerSend: Send;
  /** What the inner app gets: bound once. */
  private readonly receive: Receive;
  private readonly send: Send;
  /** Armed until the response completes, the app settles, or it fires. */
  private timer: NodeJS.Timeout | undefined = undefined;
  private started = false;
  private timedOut = false;
  /** Resolves the inner app's pending receive(), so a timeout can wake it with a disconnect. */
  private wakeReceive: ((event: ReceiveEvent) => void) | null = null;
  private resolveOuter: (() => void) | null = null;
  private rejectOuter: ((error: unknown) => void) | null = null;

  constructor(settings: TimeoutSettings, scope: HttpScope, receive: Receive, send: Send) {
    this.settings = settings;
    this.scope = scope;
    this.outerReceive = receive;
    this.outerSend = send;
    this.receive = this.receiveEvent.bind(this);
    this.send = this.sendEvent.bind(this);
  }

  /** Runs the inner app; settles when it does, or when the limit passes (whichever comes first). */
  run(next: App): Promise<void> {
    this.timer = setTimeout(onTimer, this.settings.ms, this);
    let inner: Promise<void>;
    try {
      inner = next(this.scope, this.receive, this.send);
    } catch (error) {
      this.clearTimer();
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.resolveOuter = resolve;
      this.rejectOuter = reject;
      inner.then(
        () => this.innerSettled(false, undefined),
        (error: unknown) => this.innerSettled(true, error),
      );
    });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private receiveEvent(): Promise<ReceiveEvent> {
    if (this.timedOut) return DISCONNECT_PROMISE;
    // The response is complete (timer cleared): nothing left to cut short.
    if (this.timer === undefined) return this.outerReceive();
    const pending = this.outerReceive();
    return new Promise<ReceiveEvent>((resolve, reject) => {
      this.wakeReceive = resolve;
      pending.then(resolve, reject);
    });
  }

  private sendEvent(event: SendEvent): Promise<void> {
    if (this.timedOut) return SENT; // answered (or cut off) already: drop without writing or throwing
    if (event.type === "http.response.start") this.started = true;
    else if (this.started && event.type === "http.response.body" && event.moreBody !== true) this.clearTimer();
    return this.outerSend(event);
  }

  /** The inner app returned or threw. */
  private innerSettled(failed: boolean, error: unknown): void {
    this.clearTimer();
    if (!this.timedOut) {
      if (failed) this.rejectOuter!(error);
      else this.resolveOuter!();
      return;
    }
    // Late: the layer already settled when the limit passed.
    const { logger } = this.settings;
    const { method, path } = this.scope;
    if (failed) logger.debug({ err: error, method, path }, "error raised after the request timed out");
    if (hasAfterResponse(this.scope)) void runAfterResponse(this.scope, logger);
  }

  /** The limit passed with the app still running. */
  fire(): void {
    this.timer = undefined;
    this.timedOut = true;
    const { seconds, status, logger } = this.settings;
    const { method, path } = this.scope;
    const wake = this.wakeReceive;
    this.wakeReceive = null;
    if (!this.started) {
      logger.warn({ method, path, timeoutSeconds: seconds, status }, "request timed out");
      sendTimeoutResponse(this.outerSend, status).then(this.resolveOuter!, this.rejectOuter!);
    } else {
      this.rejectOuter!(new RequestTimeoutError(seconds, status));
    }
    // After the answer is on its way: whatever the handler does on abort is dropped anyway.
    abortRequest(this.scope, new DOMException(`Request timed out after ${seconds} s`, "TimeoutError"));
    if (wake !== null) wake(DISCONNECT);
  }
}

function onTimer(request: TimedRequest): void {
  request.fire();
}

/** The complete timeout answer, through the server's own `send`. */
async function sendTimeoutResponse(send: Send, status: number): Promise<void> {
  await send({
    type: "http.response.start",
    status,
    headers: [
      ["content-type", "application/json"],
      ["content-length", String(TIMEOUT_BODY.length)],
    ],
  });
  await send({ type: "http.response.body", body: TIMEOUT_BODY, moreBody: false });
}
