/**
 * What the error layer does for a WebSocket connection (uvicorn's and Starlette's rules, with the
 * denial-response extension so a rejected handshake gets a real HTTP status):
 *
 * - `WebSocketDisconnect` escaping the app: the client left; nothing to answer, nothing logged;
 * - `WebSocketException(code, reason)`: a `websocket.close` with that code (before the handshake
 *   was accepted, that is a 403);
 * - any other error before the handshake was accepted: the exception handlers answer it as they
 *   would a request (a 401 from an auth dependency, a 422 from validation, a 404), sent as the
 *   handshake's HTTP response; unhandled, a logged 500;
 * - any other error after it: logged, and the connection closed with 1011.
 *
 * @module
 */
import type { App, Receive, Send, SendEvent } from "../adapter/events.js";
import type { WebSocketScope } from "../adapter/websocket-events.js";
import type { Logger } from "../../lib/logger.js";
import { WebSocketDisconnect, WebSocketException } from "../../lib/errors.js";
import { answerException, type ExceptionHandlers } from "./exception-middleware.js";
import { sendServerError } from "./server-error-response.js";

/** A `send` that remembers whether the handshake was accepted through it. */
export function trackAccept(send: Send): { send: Send; accepted: () => boolean } {
  let accepted = false;
  return {
    send: (event) => {
      if (event.type === "websocket.accept") accepted = true;
      return send(event);
    },
    accepted: () => accepted,
  };
}

/**
 * A `send` that turns an HTTP response into the handshake's denial response, so anything that
 * renders a `Response` (exception handlers, the 500) can answer a WebSocket handshake.
 */
export function denialSend(send: Send): Send {
  return (event: SendEvent) => {
    if (event.type === "http.response.start") {
      return send({ type: "websocket.http.response.start", status: event.status, headers: event.headers });
    }
    if (event.type === "http.response.body") {
      return send({ type: "websocket.http.response.body", body: event.body, moreBody: event.moreBody });
    }
    return send(event);
  };
}

/** Options of {@link guardWebSocket}. */
export interface WebSocketGuardOptions {
  logger: Logger;
  debug: boolean;
  /** Exception handlers to try first (when the error and exception layers are fused). */
  exceptions?: ExceptionHandlers;
}

/** Runs `next` for a WebSocket scope and answers whatever it throws (see the module comment). */
export async function guardWebSocket(next: App, scope: WebSocketScope, receive: Receive, send: Send, options: WebSocketGuardOptions): Promise<void> {
  const tracked = trackAccept(send);
  try {
    await next(scope, receive, tracked.send);
  } catch (thrown) {
    let error = thrown;
    if (error instanceof WebSocketDisconnect) return;
    if (error instanceof WebSocketException) {
      await send({ type: "websocket.close", code: error.code, reason: error.reason });
      return;
    }
    const { logger } = options;
    if (!tracked.accepted()) {
      if (options.exceptions !== undefined) {
        try {
          if (await answerException(options.exceptions, error, scope, denialSend(send))) return;
        } catch (fromHandler) {
          error = fromHandler;
        }
      }
      logger.error({ err: error, path: scope.path }, "unhandled error in websocket handshake");
      // Rejects (and so re-raises to the server, which drops the connection) if a denial had started.
      await sendServerError(denialSend(send), error, options.debug);
      return;
    }
    logger.error({ err: error, path: scope.path }, "unhandled error in websocket");
    await send({ type: "websocket.close", code: 1011, reason: "" }).catch(() => undefined);
  }
}
