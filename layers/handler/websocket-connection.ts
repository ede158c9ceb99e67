/**
 * The object a WebSocket handler talks to (Starlette's `WebSocket`): accept, receive and send
 * messages, close; iterate messages with `for await`.
 *
 * It is a thin layer over the event interface: every call is one `receive()` or `send()` event,
 * so what a handler does is exactly what a middleware sees.
 *
 * @module
 */
import type { HeaderList, Receive, ReceiveEvent, Send } from "../adapter/events.js";
import type { WebSocketScope } from "../adapter/websocket-events.js";
import { WebSocketDisconnect, WebSocketException } from "../../lib/errors.js";

/** A received message: a string for a text frame, bytes for a binary one. */
export type WebSocketMessage = string | Uint8Array;

/** Options of {@link WebSocketConnection.accept}. */
export interface AcceptOptions {
  /** One of the subprotocols the client offered (`ws.subprotocols`). */
  subprotocol?: string;
  /** Extra headers for the 101 response. */
  headers?: HeaderList;
}

/** Where the connection is, from the handler's side. */
export type WebSocketState = "connecting" | "connected" | "closed";

/**
 * One WebSocket connection.
 *
 * @example
 * app.websocket("/echo", async ({ ws }) => {
 *   await ws.accept();
 *   for await (const message of ws) await ws.send(message);
 * });
 */
export class WebSocketConnection implements AsyncIterable<WebSocketMessage> {
  readonly scope: WebSocketScope;
  private readonly receiveEvent: Receive;
  private readonly sendEvent: Send;
  private connectSeen = false;
  private current: WebSocketState = "connecting";
  private closedWith: WebSocketDisconnect | null = null;

  constructor(scope: WebSocketScope, receive: Receive, send: Send) {
    this.scope = scope;
    this.receiveEvent = receive;
    this.sendEvent = send;
  }

  /** Subprotocols the client offered, in its order of preference. */
  get subprotocols(): readonly string[] {
    return this.scope.subprotocols;
  }

  /** `connecting` until accepted, `connected` after, `closed` once either side closed. */
  get state(): WebSocketState {
    return this.current;
  }

  /** Completes the handshake (101). */
  async accept(options: AcceptOptions = {}): Promise<void> {
    if (this.current !== "connecting") throw new Error(`accept() on a WebSocket that is ${this.current}`);
    await this.awaitConnect();
    await this.sendEvent({ type: "websocket.accept", subprotocol: options.subprotocol, headers: options.headers });
    this.current = "connected";
  }

  /**
   * The next message. Throws {@link WebSocketDisconnect} once the client has closed (or the
   * connection was lost); a handler that lets it escape just ends.
   */
  async receive(): Promise<WebSocketMessage> {
    if (this.closedWith !== null) throw this.closedWith;
    if (this.current === "connecting") throw new Error("receive() before accept()");
    const event = await this.receiveEvent();
    if (event.type === "websocket.receive") return event.text ?? (event.bytes as Uint8Array);
    if (event.type === "websocket.disconnect") {
      this.current = "closed";
      this.closedWith = new WebSocketDisconnect(event.code, event.reason);
      throw this.closedWith;
    }
    throw new Error(`Unexpected event ${event.type} on a WebSocket`);
  }

  /** The next message, which must be text; a binary one closes the connection with 1003. */
  async receiveText(): Promise<string> {
    const message = await this.receive();
    if (typeof message !== "string") throw new WebSocketException(1003, "Expected a text message");
    return message;
  }

  /** The next message, which must be binary; a text one closes the connection with 1003. */
  async receiveBytes(): Promise<Uint8Array> {
    const message = await this.receive();
    if (typeof message === "string") throw new WebSocketException(1003, "Expected a binary message");
    return message;
  }

  /** The next message parsed as JSON (text or UTF-8 bytes); invalid JSON closes with 1007. */
  async receiveJson<T = unknown>(): Promise<T> {
    const message = await this.receive();
    const text = typeof message === "string" ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString("utf8");
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new WebSocketException(1007, "Invalid JSON");
    }
  }

  /**
   * Sends a message: a string as a text frame, bytes as a binary frame. Resolves when the server
   * can take more (backpressure); after the client has gone it resolves without sending.
   */
  send(message: WebSocketMessage): Promise<void> {
    return typeof message === "string"
      ? this.sendEvent({ type: "websocket.send", text: message })
      : this.sendEvent({ type: "websocket.send", bytes: message });
  }

  /** Sends a text message. */
  sendText(text: string): Promise<void> {
    return this.sendEvent({ type: "websocket.send", text });
  }

  /** Sends a binary message. */
  sendBytes(bytes: Uint8Array): Promise<void> {
    return this.sendEvent({ type: "websocket.send", bytes });
  }

  /** Sends `value` as JSON in a text message. */
  sendJson(value: unknown): Promise<void> {
    return this.sendEvent({ type: "websocket.send", text: JSON.stringify(value) });
  }

  /**
   * Closes the connection with `code` (default 1000) and `reason`. Before `accept()`, rejects the
   * handshake with 403 instead.
   */
  async close(code = 1000, reason = ""): Promise<void> {
    if (this.current === "closed") return;
    if (this.current === "connecting") await this.awaitConnect();
    this.current = "closed";
    await this.sendEvent({ type: "websocket.close", code, reason });
  }

  /** Messages until the client closes; the loop then ends normally. */
  async *[Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (error) {
        if (error instanceof WebSocketDisconnect) return;
        throw error;
      }
    }
  }

  /** Consumes the `websocket.connect` event the protocol delivers first. */
  private async awaitConnect(): Promise<void> {
    if (this.connectSeen) return;
    this.connectSeen = true;
    const event: ReceiveEvent = await this.receiveEvent();
    if (event.type === "websocket.disconnect") {
      this.current = "closed";
      this.closedWith = new WebSocketDisconnect(event.code, event.reason);
      throw this.closedWith;
    }
    if (event.type !== "websocket.connect") throw new Error(`Expected websocket.connect, got ${event.type}`);
  }
}
