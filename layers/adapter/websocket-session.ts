/**
 * One WebSocket connection as the app sees it: `receive`/`send` over a server-specific
 * {@link WebSocketTransport}. Both servers use this class, so the protocol (which event is allowed
 * when, what happens when the app ends or fails, how incoming messages queue) is the same on
 * node:http and uWS; a transport only moves bytes.
 *
 * States: handshake → accepted → closed, or handshake → denying → closed. The client can vanish
 * in any state; from then on `receive()` yields the disconnect and `send()` resolves without
 * writing (as for HTTP), except that events out of order still throw.
 *
 * @module
 */
import type { App, HeaderList, Receive, ReceiveEvent, Send, SendEvent } from "./events.js";
import type { WebSocketDisconnectEvent, WebSocketReceiveEvent, WebSocketScope } from "./websocket-events.js";
import type { Logger } from "../../lib/logger.js";
import { ProtocolError } from "../../lib/errors.js";
import { invalidHeader } from "./uws-headers.js";
import { errorBody } from "./node-error-response.js";

/** What a server provides for one connection. Only called in the states the session allows. */
export interface WebSocketTransport {
  /** Completes the handshake (101). */
  accept(subprotocol: string | undefined, headers: HeaderList): void;
  /** Answers the handshake with a whole HTTP response, then closes the connection. */
  deny(status: number, headers: HeaderList, body: Uint8Array): void;
  /** Sends one message; returns true when buffered output is past the transport's high-water mark. */
  send(data: string | Uint8Array, binary: boolean): boolean;
  /** Resolves when buffered output has drained, or the connection has ended. */
  drained(): Promise<void>;
  /** Sends a close frame (the transport reports the end through {@link WebSocketSession.onClose}). */
  close(code: number, reason: string): void;
  /** Drops the connection without a close frame or response. */
  terminate(): void;
  /** Stops reading from the socket (incoming messages queue up unread). Best effort. */
  pause(): void;
  resume(): void;
}

/** Settings shared by every connection of one server. */
export interface WebSocketSessionOptions {
  logger: Logger;
  /**
   * Queued, unread incoming bytes past which the connection is closed with 1008. Reading pauses
   * long before that where the transport can pause; this bounds a flood where it cannot.
   */
  maxQueuedBytes: number;
}

const HANDSHAKE = 0;
const DENYING = 1;
const ACCEPTED = 2;
const CLOSED = 3;
const STATE_NAMES = ["websocket.accept, websocket.close or websocket.http.response.start", "websocket.http.response.body", "websocket.send or websocket.close", "nothing (the connection is closed)"];

/** Unread bytes past which the transport is paused (resumed when the app has read them all). */
const PAUSE_AT = 64 * 1024;

const CONNECT: ReceiveEvent = Object.freeze({ type: "websocket.connect" as const });
const CONNECT_PROMISE = Promise.resolve(CONNECT);
const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY = new Uint8Array(0);

/**
 * Whether the app may send `code` in a close frame: 1000–1003, 1007–1014 and 3000–4999
 * (RFC 6455 §7.4.1–2; 1004–1006 and 1015 are reserved and never sent).
 */
export function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  );
}

/** The protocol state of one WebSocket connection. */
export class WebSocketSession {
  readonly scope: WebSocketScope;
  readonly receive: Receive;
  readonly send: Send;
  private readonly transport: WebSocketTransport;
  private readonly options: WebSocketSessionOptions;
  private state = HANDSHAKE;
  private connectDelivered = false;
  private readonly queue: WebSocketReceiveEvent[] = [];
  private queuedBytes = 0;
  private paused = false;
  private waiter: ((event: ReceiveEvent) => void) | null = null;
  private disconnect: WebSocketDisconnectEvent | null = null;
  private denial: { status: number; headers: HeaderList; chunks: Uint8Array[] } | null = null;
  private wasAccepted = false;

  constructor(scope: WebSocketScope, transport: WebSocketTransport, options: WebSocketSessionOptions) {
    this.scope = scope;
    this.transport = transport;
    this.options = options;
    this.receive = () => this.nextEvent();
    this.send = (event) => this.handleSend(event);
  }

  /** Whether the app accepted the handshake (it stays true after the connection closes). */
  get accepted(): boolean {
    return this.wasAccepted;
  }

  /** Whether the connection has ended (the disconnect is known). */
  get ended(): boolean {
    return this.disconnect !== null;
  }

  /** The transport received a message. */
  onMessage(data: string | Uint8Array): void {
    if (this.disconnect !== null) return;
    const event: WebSocketReceiveEvent =
      typeof data === "string" ? { type: "websocket.receive", text: data } : { type: "websocket.receive", bytes: data };
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter(event);
      return;
    }
    this.queue.push(event);
    this.queuedBytes += typeof data === "string" ? data.length : data.byteLength;
    if (this.queuedBytes > this.options.maxQueuedBytes) {
      this.options.logger.warn({ path: this.scope.path, queued: this.queuedBytes }, "websocket receive queue full, closing");
      this.transport.close(1008, "Receive queue full");
    } else if (!this.paused && this.queuedBytes > PAUSE_AT) {
      this.paused = true;
      this.transport.pause();
    }
  }

  /** The connection ended: the peer's close code, or 1006 when it was lost. Idempotent. */
  onClose(code: number, reason: string): void {
    if (this.disconnect !== null) return;
    this.disconnect = { type: "websocket.disconnect", code, reason };
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter(this.disconnect);
    }
  }

  /**
   * The app has returned (`error` undefined) or thrown. Whatever it left open is closed:
   * before the handshake, a 500; during a denial, the connection is dropped; after accepting,
   * close 1000 (returned) or 1011 (failed), as uvicorn does.
   */
  finish(failed: boolean, error?: unknown): void {
    const logger = this.options.logger;
    const path = this.scope.path;
    if (failed) logger.error({ err: error, path }, "websocket app failed");
    if (this.disconnect !== null) {
      this.state = CLOSED;
      return;
    }
    if (this.state === HANDSHAKE) {
      if (!failed) logger.error({ path }, "websocket app returned without accepting or rejecting the handshake");
      const body = Buffer.from(errorBody(500));
      this.transport.deny(500, [["content-type", "application/json"]], body);
    } else if (this.state === DENYING) {
      this.transport.terminate();
    } else if (this.state === ACCEPTED) {
      this.transport.close(failed ? 1011 : 1000, "");
    }
    this.state = CLOSED;
  }

  /** Server shutdown: an open connection gets close 1001 (going away); a pending handshake, 503. */
  shutdown(): void {
    if (this.disconnect !== null) return;
    if (this.state === ACCEPTED) this.transport.close(1001, "Server shutting down");
    else if (this.state === HANDSHAKE) {
      this.state = CLOSED;
      this.transport.deny(503, [["content-type", "application/json"]], Buffer.from(errorBody(503)));
    }
  }

  private nextEvent(): Promise<ReceiveEvent> {
    if (!this.connectDelivered) {
      this.connectDelivered = true;
      return CONNECT_PROMISE;
    }
    const queued = this.queue.shift();
    if (queued !== undefined) {
      this.queuedBytes -= queued.text !== undefined ? queued.text.length : (queued.bytes as Uint8Array).byteLength;
      if (this.paused && this.queue.length === 0) {
        this.paused = false;
        this.transport.resume();
      }
      return Promise.resolve(queued);
    }
    if (this.disconnect !== null) return Promise.resolve(this.disconnect);
    if (this.waiter !== null) return Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()"));
    return new Promise((resolve) => (this.waiter = resolve));
  }

  private handleSend(event: SendEvent): Promise<void> {
    try {
      return this.apply(event);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private apply(event: SendEvent): Promise<void> {
    const state = this.state;
    const gone = this.disconnect !== null;
    switch (event.type) {
      case "websocket.send": {
        if (state !== ACCEPTED) break;
        if (gone) return RESOLVED;
        const { text, bytes } = event;
        if ((text === undefined) === (bytes === undefined)) {
          throw new ProtocolError("websocket.send with exactly one of text or bytes", "both or neither");
        }
        if (text !== undefined && typeof text !== "string") throw new ProtocolError("text as a string", typeof text);
        if (bytes !== undefined && !(bytes instanceof Uint8Array)) throw new ProtocolError("bytes as a Uint8Array", typeof bytes);
        const full = text !== undefined ? this.transport.send(text, false) : this.transport.send(bytes as Uint8Array, true);
        return full ? this.transport.drained() : RESOLVED;
      }
      case "websocket.accept": {
        if (state !== HANDSHAKE) break;
        const { subprotocol } = event;
        const headers = event.headers ?? [];
        if (subprotocol !== undefined && !this.scope.subprotocols.includes(subprotocol)) {
          throw new ProtocolError(`a subprotocol the client offered (${this.scope.subprotocols.join(", ") || "none"})`, JSON.stringify(subprotocol));
        }
        const bad = invalidHeader(headers);
        if (bad !== null) throw new ProtocolError("valid response headers", bad);
        this.state = ACCEPTED;
        this.wasAccepted = true;
        if (!gone) this.transport.accept(subprotocol, headers);
        return RESOLVED;
      }
      case "websocket.close": {
        if (state !== HANDSHAKE && state !== ACCEPTED) break;
        const code = event.code ?? 1000;
        const reason = event.reason ?? "";
        if (state === ACCEPTED) {
          if (!isSendableCloseCode(code)) throw new ProtocolError("a close code 1000-1003, 1007-1014 or 3000-4999", String(code));
          if (Buffer.byteLength(reason) > 123) throw new ProtocolError("a close reason of at most 123 bytes", `${Buffer.byteLength(reason)} bytes`);
        }
        this.state = CLOSED;
        if (gone) return RESOLVED;
        // Before the handshake: ASGI's rule, a close is a 403.
        if (state === HANDSHAKE) this.transport.deny(403, [["content-type", "application/json"]], Buffer.from(errorBody(403)));
        else this.transport.close(code, reason);
        return RESOLVED;
      }
      case "websocket.http.response.start": {
        if (state !== HANDSHAKE) break;
        const { status, headers } = event;
        if (!Number.isInteger(status) || status < 200 || status > 599) {
          throw new ProtocolError("a denial status between 200 and 599", String(status));
        }
        const bad = invalidHeader(headers);
        if (bad !== null) throw new ProtocolError("valid response headers", bad);
        this.state = DENYING;
        this.denial = { status, headers, chunks: [] };
        return RESOLVED;
      }
      case "websocket.http.response.body": {
        if (state !== DENYING) break;
        const denial = this.denial!;
        const body = event.body;
        if (body !== undefined) denial.chunks.push(typeof body === "string" ? Buffer.from(body) : body);
        if (event.moreBody === true) return RESOLVED;
        this.state = CLOSED;
        if (!gone) {
          const whole = denial.chunks.length === 0 ? EMPTY : Buffer.concat(denial.chunks);
          this.transport.deny(denial.status, denial.headers, whole);
        }
        return RESOLVED;
      }
      default:
        break;
    }
    throw new ProtocolError(STATE_NAMES[state]!, String((event as { type: unknown }).type));
  }
}

/** The default {@link WebSocketSessionOptions.maxQueuedBytes}: 16 MiB, or four messages' worth if more. */
export function defaultMaxQueuedBytes(maxMessageSize: number): number {
  return Math.max(16 * 1024 * 1024, 4 * maxMessageSize);
}

/**
 * Runs `app` for one connection, then lets the session close whatever the app left open (see
 * {@link WebSocketSession.finish}). Never rejects: an app's error ends in a 500 or a 1011.
 */
export async function runWebSocketApp(app: App, session: WebSocketSession): Promise<void> {
  let failed = false;
  let error: unknown;
  try {
    await app(session.scope, session.receive, session.send);
  } catch (thrown) {
    failed = true;
    error = thrown;
  }
  session.finish(failed, error);
}
