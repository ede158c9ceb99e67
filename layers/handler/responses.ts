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
import { sendStream, type BodySource } from "./stream-body.js";

export type { SetCookieOptions, DeleteCookieOptions } from "./response-headers.js";
export type { BodyChunk, BodySource } from "./stream-body.js";

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
 * A URL made safe for a `Location` header: spaces, non-ASCII and other characters a URI cannot hold
 * are percent-encoded (as `encodeURI` does), reserved characters are kept, and so are escapes
 * already present (`%20` stays `%20`, not `%2520`: a URL built from an encoded path, or from
 * `scope.rawPath`, is not encoded twice). A `%` that starts no escape is encoded (`%25`).
 */
export function encodeLocation(url: string): string {
  const parts = url.split(/(%[0-9A-Fa-f]{2})/);
  for (let i = 0; i < parts.length; i += 2) parts[i] = encodeURI(parts[i]!);
  return parts.join("");
}

/**
 * A redirect: `location` set, empty body. Default 307 (method and body preserved, RFC 9110 §15.4.8),
 * as Starlette does. The URL is encoded by {@link encodeLocation}.
 */
export class RedirectResponse extends Response {
  constructor(url: string, init: ResponseInit = {}) {
    const headers = toHeaderList(init.headers);
    headers.push(["location", encodeLocation(url)]);
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
 * A body produced piece by piece and sent as it is produced, chunked (Starlette's
 * `StreamingResponse`). The content is an async iterable (an async generator, a node `Readable`,
 * a web `ReadableStream`), a sync iterable (an array, a generator) of strings and `Uint8Array`s,
 * or a single chunk. No `content-length` is set: the server frames the body. `mediaType` is the
 * `content-type` used when `init.headers` names none.
 *
 * - Backpressure: the next chunk is pulled only once the server took the previous one.
 * - Disconnect: when the client goes away the iteration stops, the iterator's `return()` runs (an
 *   async generator's `finally`, a `Readable`'s `destroy()`), the request's signal
 *   (`requestSignal(scope)`) is aborted, and nothing more is sent.
 * - Errors: an error thrown by the content after the head went out propagates, so the server
 *   closes the connection and the client sees a truncated body instead of a clean end.
 *
 * The machinery lives in `stream-body.ts` ({@link sendStream}). A response object is single-use:
 * the iterable is consumed by the first `sendTo`.
 *
 * @example
 * app.get("/numbers", () =>
 *   new StreamingResponse(
 *     (async function* () {
 *       try {
 *         for (let i = 0; ; i++) yield `${i}\n`;
 *       } finally {
 *         console.log("client gone or done");
 *       }
 *     })(),
 *     { headers: { "content-type": "text/plain; charset=utf-8" } },
 *   ),
 * );
 */
export class StreamingResponse extends OutgoingResponse {
  readonly content: BodySource;

  constructor(content: BodySource, init: ResponseInit = {}, mediaType?: string) {
    const headers = toHeaderList(init.headers);
    super(init.status ?? 200, headers);
    if (mediaType !== undefined && !headers.some(([k]) => k === "content-type")) headers.push(["content-type", mediaType]);
    this.content = content;
  }

  /**
   * Streams the content. With the request's `receive` it stops when the client disconnects; with
   * its `scope` too, it aborts the request's signal then. Rejects when the content throws.
   */
  sendTo(send: Send, scope?: HttpScope, receive?: Receive): Promise<void> {
    return sendStream(send, this, this.content, scope, receive);
  }
}

/** Anything the handler layer passes through untouched. */
export type AnyResponse = OutgoingResponse;

/** True when a handler's return value is a response object rather than data to serialize. */
export function isResponse(value: unknown): value is AnyResponse {
  return value instanceof OutgoingResponse;
}
