/**
 * The error layer, always outermost: the last line between an uncaught error and the worker.
 *
 * Before the response has started, an error becomes a 500 JSON response (the stack only in debug
 * mode) and is logged once. After it has started, nothing honest can be sent, so the error is logged
 * and re-raised: the adapter then closes the connection and the client sees a truncated response
 * rather than a wrong one (Starlette's `ServerErrorMiddleware`, uvicorn's `run_asgi`). Either way
 * the process keeps serving.
 *
 * A WebSocket connection's errors are handled by {@link guardWebSocket}: before the handshake is
 * accepted they become an HTTP denial (the same 4xx/500 a request would get), after it a close
 * frame (1011, or the code of a `WebSocketException`).
 *
 * Being outermost, it is also where after-response work (dependency cleanups) runs: after the
 * response, including a 500 it rendered itself.
 *
 * @module
 */
import type { App, HttpScope, Send } from "../adapter/events.js";
import { SENT } from "../adapter/events.js";
import type { Logger } from "../../lib/logger.js";
import type { Middleware } from "./middleware.js";
import { hasAfterResponse, runAfterResponse } from "./after-response.js";
import type { PendingWork } from "./pending-work.js";
import { answerException, type ExceptionHandlers } from "./exception-middleware.js";
import { sendServerError } from "./server-error-response.js";
import { guardWebSocket } from "./websocket-guard.js";

/** Options for {@link errorMiddleware}. */
export interface ErrorMiddlewareOptions {
  logger: Logger;
  /** Include the error's name, message and stack in 500 bodies. Never in production. */
  debug?: boolean;
  /**
   * Exception handlers to apply first, in the same frame. The pipeline passes them when there is
   * no user middleware between the error and the exception layer: the two layers then cost one
   * async frame per request instead of two, with the same behaviour.
   */
  exceptions?: ExceptionHandlers;
  /** Where work after the response (background tasks, cleanups) is counted, so a graceful close can wait for it. */
  pending?: PendingWork;
}

/** Creates the error layer. */
export function errorMiddleware(options: ErrorMiddlewareOptions): Middleware {
  const settings: ErrorSettings = { logger: options.logger, debug: options.debug ?? false, exceptions: options.exceptions, pending: options.pending };
  const { logger, debug, exceptions } = settings;
  return (next: App): App =>
    function errorLayer(scope, receive, send) {
      if (scope.type !== "http") {
        if (scope.type === "websocket") return guardWebSocket(next, scope, receive, send, { logger, debug, exceptions });
        return next(scope, receive, send);
      }
      let result: Promise<void>;
      try {
        result = next(scope, receive, send);
      } catch (thrown) {
        return guarded(null, thrown, scope, send, settings);
      }
      // The common case, a response completed inside the call (the shared SENT promise, resolved
      // by construction): no async frame, no microtask, unless there is after-response work.
      if (result === SENT && !hasAfterResponse(scope)) return SENT;
      return guarded(result, undefined, scope, send, settings);
    };
}

/** The error layer's settings, shared by every request. */
interface ErrorSettings {
  logger: Logger;
  debug: boolean;
  exceptions: ExceptionHandlers | undefined;
  pending: PendingWork | undefined;
}

/**
 * The error layer's slow path: waits for the rest of the pipeline (`running`), or starts from the
 * error it threw synchronously (`running` null), answers what can be answered, and runs the
 * after-response work last.
 */
async function guarded(running: Promise<void> | null, syncError: unknown, scope: HttpScope, send: Send, settings: ErrorSettings): Promise<void> {
  try {
    if (running === null) throw syncError;
    await running;
  } catch (thrown) {
    let error = thrown;
    const { exceptions, logger } = settings;
    if (exceptions !== undefined) {
      try {
        if (await answerException(exceptions, error, scope, send)) return;
      } catch (fromHandler) {
        error = fromHandler;
      }
    }
    logger.error({ err: error, method: scope.method, path: scope.path }, "unhandled error in request");
    try {
      await sendServerError(send, error, settings.debug);
    } catch {
      // Started before the error: re-raise so the server closes the connection.
      throw error;
    }
  } finally {
    // After the response, whichever way it went (and before a re-raise reaches the server).
    if (hasAfterResponse(scope)) {
      const work = runAfterResponse(scope, settings.logger);
      const pending = settings.pending;
      await (pending === undefined ? work : pending.track(work));
    }
  }
}
