/**
 * `FileResponse`: a file from disk, streamed in chunks, with validators, conditional requests and
 * single byte ranges (Starlette's `FileResponse`).
 *
 * @module
 */
import { open, stat as statPath, type FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";
import mime from "mime";
import type { HeaderList, HttpScope, Receive, Send } from "../adapter/events.js";
import { HttpException } from "../../lib/errors.js";
import { OutgoingResponse, type HeadersInit } from "./responses.js";
import { contentDisposition, type DispositionType } from "./content-disposition.js";
import { fileETag, ifRangeHolds, lastModified, noneMatchHits, notModifiedSince, parseRange, type FileMetadata } from "./file-conditions.js";
import { watchDisconnect } from "./disconnect-watch.js";

/** What the response needs to know about the file: `fs.Stats` fits. */
export interface FileStat extends FileMetadata {
  isFile(): boolean;
}

/** Options of a {@link FileResponse}. */
export interface FileResponseInit {
  /** Status for the whole file; default 200. Conditional requests and ranges apply only to 200. */
  status?: number;
  /** Extra headers. Your own `content-type`, `etag` or `last-modified` wins over the computed one. */
  headers?: HeadersInit;
  /** Content-Type; default: guessed from the extension (`mime`), else `application/octet-stream`. */
  mediaType?: string;
  /** Download name: sets `Content-Disposition` (RFC 6266; non-ASCII names with RFC 8187 `filename*`). */
  filename?: string;
  /** `attachment` (default when `filename` is given) or `inline`. */
  contentDisposition?: DispositionType;
  /** The file's stat, if you already have it: headers are set at construction and `sendTo` does not stat again. */
  stat?: FileStat;
}

/** Bytes read and sent per body event. */
export const FILE_CHUNK_SIZE = 64 * 1024;

/** Headers a 304 keeps (RFC 9110 §15.4.5), plus `set-cookie`, which is not representation metadata. */
const NOT_MODIFIED_KEEP = new Set(["cache-control", "content-location", "date", "etag", "expires", "vary", "set-cookie"]);
const EMPTY = new Uint8Array(0);

/**
 * The media type for a file name: `mime`'s guess by extension, with `; charset=utf-8` for `text/*`
 * (as Starlette), or `application/octet-stream` when the extension is unknown.
 */
export function guessMediaType(path: string): string {
  const type = mime.getType(path);
  if (type === null) return "application/octet-stream";
  return type.startsWith("text/") ? `${type}; charset=utf-8` : type;
}

/**
 * Sends a file. Headers at construction: `Content-Type`, `Accept-Ranges: bytes`, and
 * `Content-Disposition` when a `filename` or disposition is given. At send time the file is
 * stat'ed (unless a `stat` was given) and `Content-Length`, a strong `ETag` (size and mtime, see
 * {@link fileETag}) and `Last-Modified` are added. Then, for a 200 to GET or HEAD:
 * - `If-None-Match` (weak comparison, `*`) matching, or else `If-Modified-Since` not older than the
 *   file: 304 with the validators and no body (RFC 9110 §13.2.2 order);
 * - GET with `Range: bytes=a-b | a- | -n`: 206 with `Content-Range`; an unsatisfiable range: 416
 *   with `Content-Range: bytes *\/size`; several ranges, a malformed one, or an `If-Range` that no
 *   longer matches (strong ETag or exact date): the whole file, 200 (see {@link parseRange});
 * - HEAD: the headers GET would get, no body, the file is not opened.
 *
 * The body is read in {@link FILE_CHUNK_SIZE} chunks, each `send()` awaited (backpressure), so a
 * file is never held in memory whole. Streaming stops when the client disconnects (found through
 * `receive()`, see {@link watchDisconnect}); the file handle is closed on every path. Without
 * `receive` (a caller outside a request) it streams to the end.
 *
 * A file that is missing, or is not a regular file, when `sendTo` runs throws `HttpException(404)`
 * before anything is sent (Starlette raises a `RuntimeError`, a 500; for a handler's return value
 * a vanished file is the client's 404). Other failures (permissions) throw as they are: a 500.
 * A file that shrinks while it is sent throws after the response started, so the server cuts the
 * connection rather than leave the client waiting for promised bytes.
 *
 * Left out: `multipart/byteranges`, `If-Match`/`If-Unmodified-Since` (412), and ranges for
 * statuses other than 200 and methods other than GET (RFC 9110 §14.2).
 *
 * @example
 * app.get("/report", () => new FileResponse("/srv/report.pdf", { filename: "Q3 report.pdf" }));
 */
export class FileResponse extends OutgoingResponse {
  readonly path: string;
  readonly stat: FileStat | undefined;

  constructor(path: string, init: FileResponseInit = {}) {
    super(init.status ?? 200, toHeaderList(init.headers));
    this.path = path;
    this.stat = init.stat;
    const headers = this.headers;
    if (!has(headers, "content-type")) headers.push(["content-type", init.mediaType ?? guessMediaType(init.filename ?? path)]);
    if ((init.filename !== undefined || init.contentDisposition !== undefined) && !has(headers, "content-disposition")) {
      headers.push(["content-disposition", contentDisposition(init.contentDisposition ?? "attachment", init.filename)]);
    }
    if (!has(headers, "accept-ranges")) headers.push(["accept-ranges", "bytes"]);
    if (init.stat !== undefined) addStatHeaders(headers, init.stat);
  }

  /** Sends the file (see the class doc); `scope` gives the method and the conditional/range headers. */
  async sendTo(send: Send, scope?: HttpScope, receive?: Receive): Promise<void> {
    const file = this.stat ?? (await statFile(this.path));
    if (!file.isFile()) throw new HttpException(404);
    // A copy: sending must not change the object (it may be sent again, or inspected afterwards).
    const headers: HeaderList = this.headers.slice();
    addStatHeaders(headers, file);
    const method = scope?.method ?? "GET";
    const size = file.size;
    let status = this.status;
    let start = 0;
    let end = size - 1;
    if (scope !== undefined && status === 200 && (method === "GET" || method === "HEAD")) {
      const etag = get(headers, "etag");
      const noneMatch = header(scope, "if-none-match");
      const since = noneMatch === undefined ? header(scope, "if-modified-since") : undefined;
      if (
        (noneMatch !== undefined && noneMatchHits(noneMatch, etag ?? '""')) ||
        (since !== undefined && notModifiedSince(since, file))
      ) {
        return notModified(send, headers);
      }
      const rangeHeader = method === "GET" ? header(scope, "range") : undefined;
      if (rangeHeader !== undefined) {
        const ifRange = header(scope, "if-range");
        const range =
          ifRange !== undefined && !ifRangeHolds(ifRange, etag, get(headers, "last-modified")) ? null : parseRange(rangeHeader, size);
        if (range?.kind === "unsatisfiable") return rangeNotSatisfiable(send, headers, size);
        if (range?.kind === "single") {
          status = 206;
          start = range.start;
          end = range.end;
          setIn(headers, "content-range", `bytes ${start}-${end}/${size}`);
          setIn(headers, "content-length", String(end - start + 1));
        }
      }
    }
    const length = end - start + 1;
    if (method === "HEAD" || length === 0) {
      await send({ type: "http.response.start", status, headers });
      await send({ type: "http.response.body", body: EMPTY, moreBody: false });
      return;
    }
    // Opened before the response starts, so a file deleted since the stat is still a clean 404.
    const handle = await openFile(this.path);
    try {
      await send({ type: "http.response.start", status, headers });
      await streamFile(handle, start, length, send, receive, this.path);
    } finally {
      await handle.close();
    }
  }
}

/** Reads `length` bytes from `start` and sends them chunk by chunk; stops early on a disconnect. */
async function streamFile(handle: FileHandle, start: number, length: number, send: Send, receive: Receive | undefined, path: string): Promise<void> {
  // A body that fits one event is sent as the final event: servers then frame it with a
  // Content-Length in one write, and there is nothing to watch.
  const watch = receive !== undefined && length > FILE_CHUNK_SIZE ? watchDisconnect(receive) : undefined;
  let position = start;
  let remaining = length;
  while (remaining > 0) {
    const want = Math.min(FILE_CHUNK_SIZE, remaining);
    // A fresh buffer per chunk: the server may still hold the previous one in its write queue.
    const buffer = Buffer.allocUnsafe(want);
    const { bytesRead } = await handle.read(buffer, 0, want, position);
    if (bytesRead === 0) throw new Error(`${path} shrank while it was being sent (${remaining} of ${length} bytes missing)`);
    position += bytesRead;
    remaining -= bytesRead;
    await send({ type: "http.response.body", body: bytesRead === want ? buffer : buffer.subarray(0, bytesRead), moreBody: remaining > 0 });
    if (watch?.disconnected === true) return;
  }
}

/** 304: the kept headers only, no body (and so no Content-Length, RFC 9110 §8.6). */
async function notModified(send: Send, headers: HeaderList): Promise<void> {
  const hasETag = has(headers, "etag");
  // Last-Modified only when there is no ETag (§15.4.5: it may still help a cache without one).
  const kept = headers.filter(([name]) => NOT_MODIFIED_KEEP.has(name) || (!hasETag && name === "last-modified"));
  await send({ type: "http.response.start", status: 304, headers: kept });
  await send({ type: "http.response.body", body: EMPTY, moreBody: false });
}

/** 416 with `Content-Range: bytes *\/size` (RFC 9110 §15.5.17) and an empty body. */
async function rangeNotSatisfiable(send: Send, headers: HeaderList, size: number): Promise<void> {
  const kept: HeaderList = headers.filter(([name]) => name === "accept-ranges" || name === "set-cookie" || name === "vary");
  kept.push(["content-range", `bytes */${size}`], ["content-length", "0"]);
  await send({ type: "http.response.start", status: 416, headers: kept });
  await send({ type: "http.response.body", body: EMPTY, moreBody: false });
}

/** `Content-Length` always (the response frames its body), validators unless already set. */
function addStatHeaders(headers: HeaderList, file: FileMetadata): void {
  setIn(headers, "content-length", String(file.size));
  if (!has(headers, "last-modified")) headers.push(["last-modified", lastModified(file)]);
  if (!has(headers, "etag")) headers.push(["etag", fileETag(file)]);
}

/** Missing file (or a path through a non-directory, a loop, a name too long): 404. */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP" || code === "ENAMETOOLONG" || code === "EISDIR";
}

async function statFile(path: string): Promise<Stats> {
  try {
    return await statPath(path);
  } catch (err) {
    if (isMissing(err)) throw new HttpException(404);
    throw err;
  }
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (err) {
    if (isMissing(err)) throw new HttpException(404);
    throw err;
  }
}

function header(scope: HttpScope, name: string): string | undefined {
  for (const [key, value] of scope.headers) if (key === name) return value;
  return undefined;
}

function has(headers: HeaderList, name: string): boolean {
  return headers.some(([key]) => key === name);
}

function get(headers: HeaderList, name: string): string | undefined {
  return headers.find(([key]) => key === name)?.[1];
}

function setIn(headers: HeaderList, name: string, value: string): void {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === name) headers.splice(i, 1);
  headers.push([name, value]);
}

function toHeaderList(init: HeadersInit | undefined): HeaderList {
  if (init === undefined) return [];
  const entries = Array.isArray(init) ? init : Object.entries(init);
  return entries.map(([k, v]) => [k.toLowerCase(), v]);
}
