/**
 * The exception layer, always innermost: maps errors raised by routes to responses.
 *
 * Handlers are registered per error class and found by walking the error's prototype chain, so a
 * handler for a base class serves its subclasses and the most specific handler wins; there is no
 * `instanceof` ladder to keep in order. The defaults map {@link HttpException} to its status and
 * `{"detail": ...}`, {@link RequestValidationError} to 422 with every issue, and catalogued
 * {@link LaminarError}s to their status. Users replace any of them (FastAPI's
 * `app.exception_handler(RequestValidationError)`).
 *
 * If an error arrives after the response has started, no handler can answer any more: the error
 * goes up to the error layer, which lets the server close the connection.
 *
 * @module
 */
import type { App, ConnectionScope, Scope, Send } from "../adapter/events.js";
import { SENT } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";
import { HttpException, LaminarError, RequestValidationError } from "../../lib/errors.js";
import { JSONResponse, type AnyResponse } from "../handler/responses.js";
import { denialSend, trackAccept } from "./websocket-guard.js";

/**
 * Turns an error into a response. For a WebSocket whose handshake was not accepted yet, the
 * response becomes the handshake's HTTP answer (`scope.type` is then `"websocket"`).
 */
export type ExceptionHandler<E = Error> = (error: E, scope: ConnectionScope) => AnyResponse | Promise<AnyResponse>;

/** Any class of error. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructor parameters are irrelevant to lookup
export type ErrorClass<E> = abstract new (...args: any[]) => E;

/** A registry of exception handlers keyed by error class. */
export class ExceptionHandlers {
  private readonly byClass = new Map<unknown, ExceptionHandler<never>>();

  /** Registers (or replaces) the handler for `cls` and its subclasses. */
  set<E>(cls: ErrorClass<E>, handler: ExceptionHandler<E>): this {
    this.byClass.set(cls, handler as ExceptionHandler<never>);
    return this;
  }

  /** The handler for `error`'s nearest class that has one, or undefined. */
  lookup(error: unknown): ExceptionHandler<unknown> | undefined {
    if (typeof error !== "object" || error === null) return undefined;
    for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
      const handler = this.byClass.get(proto.constructor);
      if (handler !== undefined) return handler as ExceptionHandler<unknown>;
    }
    return undefined;
  }

  /** A copy, so an app can extend the defaults without changing them for others. */
  clone(): ExceptionHandlers {
    const copy = new ExceptionHandlers();
    for (const [cls, handler] of this.byClass) copy.byClass.set(cls, handler);
    return copy;
  }
}

/** The default handlers: HttpException, RequestValidationError and catalogued laminar errors. */
export function defaultExceptionHandlers(): ExceptionHandlers {
  return new ExceptionHandlers()
    .set(HttpException, (error) => new JSONResponse({ detail: error.detail }, { status: error.status, headers: error.headers }))
    .set(RequestValidationError, (error) => new JSONResponse({ detail: error.issues }, { status: 422 }))
    .set(LaminarError, (error) => {
      // Server-side failures (a serialization error, a protocol error) go on to the error layer,
      // which logs them and answers a bare 500; client errors say what went wrong.
      if (error.statusCode >= 500) throw error;
      return new JSONResponse({ detail: error.message }, { status: error.statusCode });
    });
}

/**
 * Answers `error` with its registered handler. Resolves true when a response was sent, false when
 * no handler is registered for it; rejects with the handler's own error if the handler throws,
 * and with `error` itself if the response had already started (a second start was refused).
 */
export async function answerException(handlers: ExceptionHandlers, error: unknown, scope: ConnectionScope, send: Send): Promise<boolean> {
  const handler = handlers.lookup(error);
  if (handler === undefined) return false;
  const response = await handler(error, scope);
  try {
    await response.sendTo(send);
  } catch {
    // The response had already started: nothing can be answered any more, so the original error
    // goes up and the connection is closed.
    throw error;
  }
  return true;
}

/** Creates the exception layer with the given handlers. */
export function exceptionMiddleware(handlers: ExceptionHandlers): Middleware {
  return (next: App): App =>
    function exceptionLayer(scope, receive, send) {
      if (scope.type === "websocket") return answerWebSocketException(handlers, next, scope, receive, send);
      let result: Promise<void>;
      try {
        result = next(scope, receive, send);
      } catch (error) {
        return answerThrown(handlers, null, error, scope, send);
      }
      // Completed inside the call (the shared, resolved SENT): nothing can have failed.
      if (result === SENT) return SENT;
      return answerThrown(handlers, result, undefined, scope, send);
    };
}

/** The exception layer's slow path: waits for `running` (or starts from `syncError` when it is null). */
async function answerThrown(handlers: ExceptionHandlers, running: Promise<void> | null, syncError: unknown, scope: Scope, send: Send): Promise<void> {
  try {
    if (running === null) throw syncError;
    await running;
  } catch (error) {
    if (scope.type !== "http" || !(await answerException(handlers, error, scope, send))) throw error;
  }
}

/** The exception layer for a WebSocket: handlers answer errors raised before the handshake was accepted. */
async function answerWebSocketException(
  handlers: ExceptionHandlers,
  next: App,
  scope: ConnectionScope,
  receive: Parameters<App>[1],
  send: Send,
): Promise<void> {
  const tracked = trackAccept(send);
  try {
    await next(scope, receive, tracked.send);
  } catch (error) {
    if (tracked.accepted() || !(await answerException(handlers, error, scope, denialSend(send)))) throw error;
  }
}
