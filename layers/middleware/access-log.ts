/**
 * Layer 3: one structured log line per request (uvicorn's access log, as pino JSON), at info.
 *
 * HTTP, message `request completed`, fields:
 * - `method`, `path` (the path as it arrived on the wire, still percent-encoded, without the query:
 *   query strings carry tokens too often to log by default), `httpVersion`;
 * - `status`: as sent by the app; **499** (nginx's "client closed request") when the client went
 *   away before a response started, and 500 when the app threw before one started (inside the
 *   error layer, through `app.use`, that is the 500 the error layer then sends);
 * - `bytes`: response body bytes the app sent (0 for HEAD, whose body the server drops);
 * - `durationMs`: from the request reaching this layer to the line being written, 3 decimals;
 * - `requestId`: from {@link requestIdOf}, when a request-ID layer ran before this one;
 * - `client`: the peer's address (after `proxyHeaders`, the real client), or null;
 * - `aborted: true`, only when the response did not complete: the client disconnected (the app
 *   read `http.disconnect`), or the app returned or threw first.
 *
 * The line is written once, when the last body chunk is handed to the server, or else when the
 * app settles; an error is re-raised after the line is written.
 *
 * WebSocket, message `websocket closed`, once the connection is over (the app's call settles):
 * `method: "GET"`, `path`, `status` (101 accepted, 403 closed before accepting, a denial's own
 * status, 500 when the app failed before answering), `closeCode` (the code of the app's close or
 * the client's disconnect; 1006 when neither was seen after accepting), `messagesIn`,
 * `messagesOut`, `durationMs`, `requestId`, `client`, and `aborted: true` when the app failed.
 *
 * Off the hot path when disabled: if the logger does not log info (`isLevelEnabled("info")` is
 * false, or it is laminar's `silentLogger`), the layer returns the next app itself at startup.
 *
 * @module
 */
import type { App, ConnectionScope, HttpScope, Receive, ReceiveEvent, Send, SendEvent, WebSocketScope } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";
import { silentLogger, type Logger } from "../../lib/logger.js";
import { requestIdOf } from "./request-id.js";

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /** Where the lines go (at info); pass `app.logger`. */
  logger: Logger;
}

/** Status logged when the client left before any response started. */
export const CLIENT_CLOSED_STATUS = 499;

/** Whether `logger` writes info lines (pino's `isLevelEnabled`; a logger without it is assumed to). */
function logsInfo(logger: Logger): boolean {
  if (logger === silentLogger) return false;
  const check = (logger as Logger & { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof check === "function" ? check.call(logger, "info") : true;
}

/**
 * Creates the access-log layer; the next app unchanged when the logger would drop info lines.
 *
 * @example
 * const app = new App();
 * app.wrap(accessLog({ logger: app.logger }));
 * app.wrap(requestId()); // outer: the ID exists before the line is written
 */
export function accessLog(options: AccessLogOptions): Middleware {
  const { logger } = options;
  if (!logsInfo(logger)) return (next: App): App => next;
  return (next: App): App =>
    function accessLogLayer(scope, receive, send) {
      if (scope.type === "http") return new HttpAccess(logger, scope).run(next, receive, send);
      if (scope.type === "websocket") return new WebSocketAccess(logger, scope).run(next, receive, send);
      return next(scope, receive, send);
    };
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

/** The peer's host, read when the request arrives (on uWS it is gone once the response ended). */
function clientOf(scope: ConnectionScope): string | null {
  return scope.client?.[0] ?? null;
}

/** One HTTP request being logged. */
class HttpAccess {
  private readonly start = performance.now();
  private readonly client: string | null;
  private status = 0;
  private bytes = 0;
  private disconnected = false;
  private written = false;
  private readonly countBytes: boolean;

  constructor(
    private readonly logger: Logger,
    private readonly scope: HttpScope,
  ) {
    this.client = clientOf(scope);
    this.countBytes = scope.method !== "HEAD";
  }

  async run(next: App, receive: Receive, send: Send): Promise<void> {
    const wrappedReceive = async (): Promise<ReceiveEvent> => {
      const event = await receive();
      if (event.type === "http.disconnect") this.disconnected = true;
      return event;
    };
    const wrappedSend = (event: SendEvent): Promise<void> => {
      // After a disconnect the server writes nothing: what the app sends then is not counted.
      if (event.type === "http.response.start") {
        if (!this.disconnected) this.status = event.status;
      } else if (event.type === "http.response.body" && !this.written) {
        const body = event.body;
        if (body !== undefined && this.countBytes && !this.disconnected) this.bytes += typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
        if (event.moreBody !== true) this.write(this.disconnected, false);
      }
      return send(event);
    };
    try {
      await next(this.scope, wrappedReceive, wrappedSend);
    } catch (error) {
      this.write(true, true);
      throw error;
    }
    this.write(true, false);
  }

  /** Writes the line (once). `incomplete`: the response did not reach its end through this layer. */
  private write(incomplete: boolean, failed: boolean): void {
    if (this.written) return;
    this.written = true;
    const { method, rawPath, httpVersion } = this.scope;
    let status = this.status;
    if (status === 0) status = failed ? 500 : CLIENT_CLOSED_STATUS;
    const line: Record<string, unknown> = {
      method,
      path: rawPath,
      httpVersion,
      status,
      bytes: this.bytes,
      durationMs: elapsed(this.start),
      requestId: requestIdOf(this.scope),
      client: this.client,
    };
    if (incomplete) line.aborted = true;
    this.logger.info(line, "request completed");
  }
}

/** One WebSocket connection being logged. */
class WebSocketAccess {
  private readonly start = performance.now();
  private readonly client: string | null;
  private status = 0;
  private closeCode: number | undefined = undefined;
  private messagesIn = 0;
  private messagesOut = 0;

  constructor(
    private readonly logger: Logger,
    private readonly scope: WebSocketScope,
  ) {
    this.client = clientOf(scope);
  }

  async run(next: App, receive: Receive, send: Send): Promise<void> {
    const wrappedReceive = async (): Promise<ReceiveEvent> => {
      const event = await receive();
      if (event.type === "websocket.receive") this.messagesIn++;
      else if (event.type === "websocket.disconnect") this.closeCode ??= event.code;
      return event;
    };
    const wrappedSend = (event: SendEvent): Promise<void> => {
      switch (event.type) {
        case "websocket.accept":
          this.status = 101;
          break;
        case "websocket.send":
          this.messagesOut++;
          break;
        case "websocket.close":
          if (this.status === 0) this.status = 403;
          else this.closeCode ??= event.code ?? 1000;
          break;
        case "websocket.http.response.start":
          this.status = event.status;
          break;
        default:
          break;
      }
      return send(event);
    };
    try {
      await next(this.scope, wrappedReceive, wrappedSend);
    } catch (error) {
      this.write(true);
      throw error;
    }
    this.write(false);
  }

  private write(failed: boolean): void {
    let status = this.status;
    // An app that returns without answering the handshake gets a 403 (ASGI's rule).
    if (status === 0) status = failed ? 500 : 403;
    const line: Record<string, unknown> = {
      method: "GET",
      path: this.scope.rawPath,
      status,
      closeCode: status === 101 ? (this.closeCode ?? 1006) : null,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      durationMs: elapsed(this.start),
      requestId: requestIdOf(this.scope),
      client: this.client,
    };
    if (failed) line.aborted = true;
    this.logger.info(line, "websocket closed");
  }
}
