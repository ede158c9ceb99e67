/**
 * Layer 3: response compression, gzip and brotli through node:zlib (Starlette's `GZipMiddleware`,
 * with brotli and content negotiation).
 *
 * The coding is negotiated from `Accept-Encoding` ({@link negotiateEncoding}: q-values, `q=0`,
 * `identity`, `*`; brotli wins a tie). A response is compressed only when all of these hold:
 *
 * - the request is not `HEAD` (it has no body; such requests pass through untouched), and its
 *   `Accept-Encoding` asks for a coding this layer offers (otherwise, untouched too);
 * - the status may carry a whole body: not 1xx, 204, 304, nor 206 (a `content-range` counts bytes
 *   of the uncompressed body, so a partial response, or any with `content-range`, stays as it is);
 * - it has no `content-encoding` yet (the app compressed it itself, or serves a `.gz` file) and no
 *   `cache-control: no-transform` (RFC 9110 §7.7);
 * - its `content-type` is compressible ({@link isCompressible}: text, JSON, JavaScript, XML, SVG, …;
 *   already-compressed media such as images, video and archives are not, nor a response without one);
 * - a single-body response (the first body event has `moreBody: false`) is at least `minimumSize`
 *   bytes; smaller ones are sent as they are (the framing would cost more than it saves).
 *
 * A compressed response gets `content-encoding`, its `content-length` rewritten (one body) or
 * removed (a stream: the server then chunks it), `vary: accept-encoding` merged into any `vary` the
 * app set, and a strong `etag` made weak (the bytes differ from the identity body's, RFC 9110
 * §8.8.3; nginx does the same). If compressing a single body does not make it smaller, the
 * original is sent (with the `vary`).
 *
 * Streaming (`moreBody: true`): every chunk is compressed and flushed on its own (`Z_SYNC_FLUSH`,
 * brotli's `FLUSH`), so a server-sent-events stream reaches the client event by event instead of
 * waiting in the compressor's window (Starlette leaves `text/event-stream` uncompressed instead).
 * Backpressure is kept: the app's `send()` for a chunk settles only when that chunk's compressed
 * bytes have been handed to the server and the server's own `send()` has settled. Flushing every
 * chunk costs ratio when an app streams many tiny chunks; batch them in the app if that matters.
 *
 * Bodies of up to {@link SYNC_COMPRESS_LIMIT} bytes are compressed synchronously (faster than a
 * round trip to libuv's thread pool); larger ones on the thread pool, so a multi-megabyte JSON
 * answer does not stall the event loop. Compressors are freed when the response ends, when the app
 * throws, and when the server's `send()` fails.
 *
 * Deliberately left out: `deflate` (its zlib-vs-raw ambiguity made browsers and servers disagree for
 * years; every client that offers it offers gzip), `zstd` (not in node 20's zlib), compressing
 * request bodies, and adding `vary: accept-encoding` to responses that pass through uncompressed
 * (a cache storing one serves the identity body, which every client can read).
 *
 * @module
 */
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import type { App, HeaderList, HttpResponseBodyEvent, HttpResponseStartEvent, HttpScope, Receive, Send, SendEvent } from "../adapter/events.js";
import { SENT } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";
import { negotiateEncoding, type Coding } from "./accept-encoding.js";
import { addVary } from "./vary.js";

export type { Coding } from "./accept-encoding.js";

/** Options of {@link compression}. */
export interface CompressionOptions {
  /** Single-body responses smaller than this many bytes are sent as they are. Default 500. */
  minimumSize?: number;
  /** gzip level, 1 (fastest) to 9 (smallest). Default 6 (zlib's default). */
  gzipLevel?: number;
  /**
   * brotli quality, 0 to 11. Default 4: close to gzip 6 in speed and smaller; 11 (brotli's own
   * default) is meant for static files compressed once, and far too slow per request.
   */
  brotliQuality?: number;
  /** The codings offered, in order of preference for equal q-values. Default `["br", "gzip"]`. */
  encodings?: readonly Coding[];
  /** Which media types (lower-case, without parameters) to compress. Default {@link isCompressible}. */
  compressible?: (mediaType: string) => boolean;
}

/** Bodies up to this many bytes are compressed synchronously; larger ones on the thread pool. */
export const SYNC_COMPRESS_LIMIT = 64 * 1024;

/** `application/` subtypes worth compressing (besides any `+json`, `+xml`, `+yaml` suffix). */
const COMPRESSIBLE_APPLICATION = new Set([
  "json",
  "javascript",
  "x-javascript",
  "ecmascript",
  "xml",
  "x-www-form-urlencoded",
  "graphql",
  "x-ndjson",
  "ndjson",
  "yaml",
  "x-yaml",
  "toml",
  "wasm",
  "rtf",
  "x-sh",
  "vnd.ms-fontobject",
]);

/** Other media types worth compressing: uncompressed images and fonts. */
const COMPRESSIBLE_OTHER = new Set(["image/svg+xml", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon", "font/ttf", "font/otf"]);

/**
 * The default test of which media types to compress: all of `text/*`, JSON, JavaScript, XML and
 * YAML (with their `+json`/`+xml`/`+yaml` structured-suffix types), form data, GraphQL, WebAssembly,
 * SVG and other uncompressed images and fonts. Not: JPEG, PNG, WebP, video, audio, zip, gzip, woff2,
 * PDF, `application/octet-stream` (already compressed, or unknown).
 */
export function isCompressible(mediaType: string): boolean {
  if (mediaType.startsWith("text/")) return true;
  if (mediaType.startsWith("application/")) {
    const subtype = mediaType.slice(12);
    return COMPRESSIBLE_APPLICATION.has(subtype) || subtype.endsWith("+json") || subtype.endsWith("+xml") || subtype.endsWith("+yaml");
  }
  return COMPRESSIBLE_OTHER.has(mediaType);
}

/** Validated settings shared by every response through one layer. */
interface CompressionSettings {
  minimumSize: number;
  encodings: readonly Coding[];
  compressible: (mediaType: string) => boolean;
  gzip: zlib.ZlibOptions;
  brotliQuality: number;
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`compression: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return value;
}

/**
 * Creates the compression layer (see the module comment). Throws a `RangeError` for a
 * `minimumSize`, `gzipLevel` or `brotliQuality` out of range, and a `TypeError` for an empty or
 * unknown `encodings` list.
 *
 * @example
 * app.use(compression({ minimumSize: 1024 }));
 */
export function compression(options: CompressionOptions = {}): Middleware {
  const encodings = options.encodings ?? ["br", "gzip"];
  if (encodings.length === 0 || encodings.some((coding) => coding !== "br" && coding !== "gzip")) {
    throw new TypeError(`compression: encodings must be a non-empty list of "br" and "gzip", got ${JSON.stringify(encodings)}`);
  }
  const settings: CompressionSettings = {
    minimumSize: integerIn("minimumSize", options.minimumSize ?? 500, 0, Number.MAX_SAFE_INTEGER),
    encodings,
    compressible: options.compressible ?? isCompressible,
    gzip: { level: integerIn("gzipLevel", options.gzipLevel ?? 6, 1, 9) },
    brotliQuality: integerIn("brotliQuality", options.brotliQuality ?? 4, 0, 11),
  };
  return (next: App): App => {
    // The last Accept-Encoding value and its answer: nearly every request of one client (and most
    // clients: browsers send one of a few strings) repeats it, so the usual case is a comparison.
    let lastAccept: string | undefined;
    let lastCoding: Coding | undefined;
    return function compressionLayer(scope, receive, send) {
      if (scope.type !== "http" || scope.method === "HEAD") return next(scope, receive, send);
      const accept = acceptEncoding(scope);
      if (accept === undefined) return next(scope, receive, send);
      if (accept !== lastAccept) {
        lastCoding = negotiateEncoding(accept, settings.encodings);
        lastAccept = accept;
      }
      if (lastCoding === undefined) return next(scope, receive, send);
      return new CompressedResponse(settings, lastCoding, send).run(next, scope, receive);
    };
  };
}

/** The request's `Accept-Encoding` (several lines joined as one list), or undefined. */
function acceptEncoding(scope: HttpScope): string | undefined {
  let value: string | undefined;
  const headers = scope.headers;
  for (let i = 0; i < headers.length; i++) {
    const [name, text] = headers[i]!;
    if (name.length === 15 && name === "accept-encoding") value = value === undefined ? text : `${value},${text}`;
  }
  return value;
}

/** Whether a response start allows compression (see the module comment). */
function mayCompress(settings: CompressionSettings, event: HttpResponseStartEvent): boolean {
  const status = event.status;
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  let compressible = false;
  for (const [name, value] of event.headers) {
    if (name === "content-encoding" || name === "content-range") return false;
    if (name === "cache-control" && /(?:^|[\s,])no-transform(?:$|[\s,;=])/i.test(value)) return false;
    if (name === "content-type") {
      const semicolon = value.indexOf(";");
      compressible = settings.compressible((semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase());
    }
  }
  return compressible;
}

/** The start of a compressed response: encoding set, length rewritten or removed, vary merged, etag weakened. */
function compressedStart(event: HttpResponseStartEvent, coding: Coding, length: number | undefined): HttpResponseStartEvent {
  const headers: HeaderList = [];
  for (const entry of event.headers) {
    const name = entry[0];
    if (name === "content-length") continue;
    if (name === "etag" && !entry[1].startsWith("W/")) headers.push(["etag", `W/${entry[1]}`]);
    else headers.push(entry);
  }
  headers.push(["content-encoding", coding]);
  if (length !== undefined) headers.push(["content-length", String(length)]);
  addVary(headers, "accept-encoding");
  return { type: "http.response.start", status: event.status, headers };
}

function toBuffer(body: Uint8Array | string | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

const gzipAsync = promisify(zlib.gzip);
const brotliAsync = promisify(zlib.brotliCompress);

function brotliOptions(quality: number, sizeHint: number): zlib.BrotliOptions {
  return { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: sizeHint } };
}

/** Compresses one whole body (see {@link SYNC_COMPRESS_LIMIT}). */
async function compressWhole(settings: CompressionSettings, coding: Coding, body: Buffer): Promise<Buffer> {
  if (body.length <= SYNC_COMPRESS_LIMIT) {
    return coding === "gzip" ? zlib.gzipSync(body, settings.gzip) : zlib.brotliCompressSync(body, brotliOptions(settings.brotliQuality, body.length));
  }
  return coding === "gzip" ? gzipAsync(body, settings.gzip) : brotliAsync(body, brotliOptions(settings.brotliQuality, body.length));
}

/** One response through the layer: holds the start until the first body says how to send it. */
class CompressedResponse {
  private readonly settings: CompressionSettings;
  private readonly coding: Coding;
  private readonly outerSend: Send;
  /** The app's start, held until its first body event. */
  private heldStart: HttpResponseStartEvent | null = null;
  /** Set once the response is known not to be compressed: events go through as they are. */
  private passThrough = false;
  /** The streaming compressor, once a `moreBody: true` body arrived. */
  private stream: StreamCompressor | null = null;

  constructor(settings: CompressionSettings, coding: Coding, send: Send) {
    this.settings = settings;
    this.coding = coding;
    this.outerSend = send;
  }

  async run(next: App, scope: HttpScope, receive: Receive): Promise<void> {
    try {
      await next(scope, receive, (event) => this.send(event));
      // The app returned with its start still held (no body sent): a protocol error the server
      // must see as it would have without this layer.
      if (this.heldStart !== null) {
        const start = this.heldStart;
        this.heldStart = null;
        await this.outerSend(start);
      }
    } finally {
      this.stream?.destroy();
    }
  }

  private send(event: SendEvent): Promise<void> {
    if (this.passThrough) return this.outerSend(event);
    if (event.type === "http.response.start") {
      if (!mayCompress(this.settings, event)) {
        this.passThrough = true;
        return this.outerSend(event);
      }
      this.heldStart = event;
      return SENT;
    }
    if (event.type !== "http.response.body") return this.outerSend(event);
    if (this.stream !== null) return this.streamBody(event);
    const start = this.heldStart;
    // A body before any start: the server's protocol check reports it.
    if (start === null) return this.outerSend(event);
    this.heldStart = null;
    if (event.moreBody === true) return this.startStream(start, event);
    return this.sendWhole(start, toBuffer(event.body));
  }

  private async sendWhole(start: HttpResponseStartEvent, body: Buffer): Promise<void> {
    const { settings, coding } = this;
    if (body.length < settings.minimumSize) {
      this.passThrough = true;
      await this.outerSend(start);
      await this.outerSend({ type: "http.response.body", body, moreBody: false });
      return;
    }
    const compressed = await compressWhole(settings, coding, body);
    this.passThrough = true;
    if (compressed.length >= body.length) {
      const headers = start.headers.slice();
      addVary(headers, "accept-encoding");
      await this.outerSend({ type: "http.response.start", status: start.status, headers });
      await this.outerSend({ type: "http.response.body", body, moreBody: false });
      return;
    }
    await this.outerSend(compressedStart(start, coding, compressed.length));
    await this.outerSend({ type: "http.response.body", body: compressed, moreBody: false });
  }

  private async startStream(start: HttpResponseStartEvent, first: HttpResponseBodyEvent): Promise<void> {
    this.stream = new StreamCompressor(this.settings, this.coding);
    await this.outerSend(compressedStart(start, this.coding, undefined));
    await this.streamBody(first);
  }

  private async streamBody(event: HttpResponseBodyEvent): Promise<void> {
    const stream = this.stream!;
    const body = toBuffer(event.body);
    if (event.moreBody === true) {
      if (body.length === 0) return;
      const out = await stream.flushed(body);
      if (out.length > 0) await this.outerSend({ type: "http.response.body", body: out, moreBody: true });
      return;
    }
    const out = await stream.ended(body);
    this.stream = null;
    this.passThrough = true;
    await this.outerSend({ type: "http.response.body", body: out, moreBody: false });
  }
}

/**
 * A zlib compressor driven one chunk at a time: each chunk is written and flushed, and what the
 * compressor produced for it is collected (its `data` events are synchronous while the stream
 * flows, so everything is in by the time the flush's callback runs).
 */
class StreamCompressor {
  private readonly zstream: zlib.Gzip | zlib.BrotliCompress;
  private readonly flushKind: number;
  private output: Buffer[] = [];
  private failure: Error | null = null;
  private fail: ((error: Error) => void) | null = null;

  constructor(settings: CompressionSettings, coding: Coding) {
    if (coding === "gzip") {
      this.zstream = zlib.createGzip(settings.gzip);
      this.flushKind = zlib.constants.Z_SYNC_FLUSH;
    } else {
      this.zstream = zlib.createBrotliCompress(brotliOptions(settings.brotliQuality, 0));
      this.flushKind = zlib.constants.BROTLI_OPERATION_FLUSH;
    }
    this.zstream.on("data", (chunk: Buffer) => this.output.push(chunk));
    this.zstream.on("error", (error: Error) => {
      this.failure = error;
      this.fail?.(error);
    });
  }

  /** Compresses `chunk` and flushes: the bytes a client needs to decompress everything so far. */
  flushed(chunk: Buffer): Promise<Buffer> {
    return this.settle((done) => {
      this.zstream.write(chunk);
      this.zstream.flush(this.flushKind, done);
    });
  }

  /** Compresses the last `chunk` and ends the stream: the remaining bytes, trailer included. */
  ended(chunk: Buffer): Promise<Buffer> {
    return this.settle((done) => {
      this.zstream.once("end", done);
      this.zstream.end(chunk);
    });
  }

  destroy(): void {
    this.zstream.destroy();
  }

  private settle(start: (done: () => void) => void): Promise<Buffer> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<Buffer>((resolve, reject) => {
      this.fail = reject;
      start(() => {
        this.fail = null;
        const out = this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output);
        this.output = [];
        resolve(out);
      });
    });
  }
}
