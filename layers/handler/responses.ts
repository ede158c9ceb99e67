/**
 * Response objects a handler may return instead of a plain value (Starlette's `Response` family).
 *
 * A plain return value is serialized by the route's compiled serializer (layer 8); a `Response`
 * passes through as it is, with whatever status, headers and body it carries: the escape hatch
 * for redirects, HTML, empty answers and anything the response schema should not touch.
 *
 * @module
 */
import type { HeaderList, HttpScope, Receive, Send } from "../adapter/events.js";
import { ResponseHeaders } from "./response-headers.js";

export type { SetCookieOptions, DeleteCookieOptions } from "./response-headers.js";

/** Headers as a list of pairs or as a record; names are lower-cased on the way in. */
export type HeadersInit = HeaderList | Record<string, string>;

/** Options every response takes. */
export interface ResponseInit {
  /** Status code; each class has its own default. */
  status?: number;
  /** Extra headers; a `content-type` here overrides the class's media type. */
  headers?: HeadersInit;
}

/** Statuses that must not carry a body (RFC 9110 §15.2, §15.3.5, §15.4.5). */
export function isBodylessStatus(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

function toHeaderList(init: HeadersInit | undefined): HeaderList {
  if (init === undefined) return [];
  if (Array.isArray(init)) return init.map(([k, v]) => [k.toLowerCase(), v]);
  return Object.entries(init).map(([k, v]) => [k.toLowerCase(), v]);
}

/**
 * What every response object shares: a status, a header list that can still be changed until it
 * is sent (with the setters of {@link ResponseHeaders}), and `sendTo`, which writes it through the
 * event interface. The handler layer passes any `OutgoingResponse` through untouched; subclasses decide how the body is produced (whole,
 * streamed, from a file, as server-sent events).
 */
export abstract class OutgoingResponse extends ResponseHeaders {
  status: number;

  protected constructor(status: number, headers: HeaderList) {
    super(headers);
    this.status = status;
  }

  /**
   * Sends this response. `scope` and `receive` are the request's: a file response reads its
   * conditional and range headers from the scope, a streaming one watches `receive` for the
   * client's disconnect. Callers outside a request (an exception handler) pass what they have.
   */
  abstract sendTo(send: Send, scope?: HttpScope, receive?: Receive): Promise<void>;
}

/**
 * A complete response: status, headers and a body sent in one piece.
 *
 * @example
 * return new Response("pong", { status: 200, headers: { "content-type": "text/plain" } });
 */
export class Response extends OutgoingResponse {
  readonly body: string | Uint8Array;

  constructor(body: string | Uint8Array | undefined = "", init: ResponseInit = {}, mediaType?: string) {
    const status = init.status ?? 200;
    const headers = toHeaderList(init.headers);
    super(status, headers);
    const empty = isBodylessStatus(status);
    this.body = empty || body === undefined ? "" : body;
    if (!empty) {
      if (mediaType !== undefined && !headers.some(([k]) => k === "content-type")) {
        headers.push(["content-type", mediaType]);
      }
      if (!headers.some(([k]) => k === "content-length")) {
        const length = typeof this.body === "string" ? Buffer.byteLength(this.body) : this.body.byteLength;
        headers.push(["content-length", String(length)]);
      }
    }
  }

  /** Sends this response through the event interface. */
  async sendTo(send: Send): Promise<void> {
    await send({ type: "http.response.start", status: this.status, headers: this.headers });
    await send({ type: "http.response.body", body: this.body, moreBody: false });
  }
}

/** A JSON body serialized with `JSON.stringify` (no response schema applies). */
export class JSONResponse extends Response {
  constructor(value: unknown, init: ResponseInit = {}) {
    super(JSON.stringify(value) ?? "null", init, "application/json");
  }
}

/** A `text/plain; charset=utf-8` body. */
export class PlainTextResponse extends Response {
  constructor(text: string, init: ResponseInit = {}) {
    super(text, init, "text/plain; charset=utf-8");
  }
}

/** A `text/html; charset=utf-8` body. */
export class HTMLResponse extends Response {
  constructor(html: string, init: ResponseInit = {}) {
    super(html, init, "text/html; charset=utf-8");
  }
}

/**
 * A redirect: `location` set, empty body. Default 307 (method and body preserved, RFC 9110 §15.4.8),
 * as Starlette does.
 */
export class RedirectResponse extends Response {
  constructor(url: string, init: ResponseInit = {}) {
    const headers = toHeaderList(init.headers);
    // encodeURI keeps reserved characters but makes spaces and non-ASCII safe for a header value.
    headers.push(["location", encodeURI(url)]);
    super("", { status: init.status ?? 307, headers });
  }
}

/** No body at all; default status 204. */
export class EmptyResponse extends Response {
  constructor(init: ResponseInit = {}) {
    super("", { status: init.status ?? 204, headers: init.headers });
  }
}

/**
 * A body produced piece by piece from an (async) iterable, sent as it is produced with
 * `moreBody: true`; each `send()` waits for the server's backpressure.
 *
 * @example
 * return new StreamingResponse(async function* () { yield "a"; yield "b"; }(), { headers: { "content-type": "text/plain" } });
 */
export class StreamingResponse extends OutgoingResponse {
  readonly content: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

  constructor(content: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, init: ResponseInit = {}) {
    super(init.status ?? 200, toHeaderList(init.headers));
    this.content = content;
  }

  /** Streams the iterable; a failing iterable propagates its error after the response started. */
  async sendTo(send: Send): Promise<void> {
    await send({ type: "http.response.start", status: this.status, headers: this.headers });
    for await (const chunk of this.content) {
      await send({ type: "http.response.body", body: chunk, moreBody: true });
    }
    await send({ type: "http.response.body", body: "", moreBody: false });
  }
}

/** Anything the handler layer passes through untouched. */
export type AnyResponse = OutgoingResponse;

/** True when a handler's return value is a response object rather than data to serialize. */
export function isResponse(value: unknown): value is AnyResponse {
  return value instanceof OutgoingResponse;
}
