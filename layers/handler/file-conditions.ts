/**
 * Validators, conditional requests and byte ranges for file responses (RFC 9110 §8.8, §13, §14).
 * Pure functions of header values and file metadata, so they are tested without a socket.
 *
 * @module
 */

/** The file metadata the validators are made from. */
export interface FileMetadata {
  size: number;
  mtimeMs: number;
}

/**
 * A strong entity tag made of the file's size and modification time in milliseconds, in hex
 * (`"2a-18f0c1d2e3a"`): nginx's recipe at a finer clock. Starlette hashes `mtime-size` with MD5;
 * the hash adds nothing an attacker could not compute, so it is left out. It is strong because
 * the same size and mtime means, for files written normally, the same bytes; it has to be strong
 * for `If-Range` to resume a download (RFC 9110 §13.1.5 allows only strong comparison there). A
 * rewrite inside the same millisecond with the same size goes unnoticed (as with every
 * metadata-based tag); set your own `etag` header when content hashes matter.
 */
export function fileETag(meta: FileMetadata): string {
  return `"${meta.size.toString(16)}-${Math.floor(meta.mtimeMs).toString(16)}"`;
}

/** `Last-Modified` for the file: its mtime as an IMF-fixdate (RFC 9110 §5.6.7), whole seconds. */
export function lastModified(meta: FileMetadata): string {
  return new Date(meta.mtimeMs).toUTCString();
}

/** The opaque tags of an entity-tag list, each with its weakness; `null` for `*`. */
function parseETags(header: string): Array<{ weak: boolean; tag: string }> | null {
  if (header.trim() === "*") return null;
  const tags: Array<{ weak: boolean; tag: string }> = [];
  for (const m of header.matchAll(/(W\/)?"([^"]*)"/g)) tags.push({ weak: m[1] !== undefined, tag: m[2]! });
  return tags;
}

function opaque(etag: string): { weak: boolean; tag: string } {
  const weak = etag.startsWith("W/");
  const quoted = weak ? etag.slice(2) : etag;
  return { weak, tag: quoted.startsWith('"') && quoted.endsWith('"') ? quoted.slice(1, -1) : quoted };
}

/**
 * `If-None-Match` (RFC 9110 §13.1.2): true when the list names the current tag under the weak
 * comparison (`W/"x"` matches `"x"`), or is `*` (the file exists, so any tag matches).
 */
export function noneMatchHits(header: string, etag: string): boolean {
  const tags = parseETags(header);
  if (tags === null) return true;
  const current = opaque(etag).tag;
  return tags.some((t) => t.tag === current);
}

/**
 * `If-Modified-Since` (RFC 9110 §13.1.3): true when the file has not changed since the given date
 * (compared in whole seconds, the resolution of HTTP dates). An unparsable date is ignored
 * (false), as the RFC requires.
 */
export function notModifiedSince(header: string, meta: FileMetadata): boolean {
  const since = Date.parse(header);
  if (Number.isNaN(since)) return false;
  return Math.floor(meta.mtimeMs / 1000) <= Math.floor(since / 1000);
}

/**
 * `If-Range` (RFC 9110 §13.1.5): true when the range may be served. An entity tag must match
 * strongly (a weak tag on either side never does); a date must equal `Last-Modified` exactly.
 */
export function ifRangeHolds(header: string, etag: string | undefined, modified: string | undefined): boolean {
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    if (etag === undefined || value.startsWith("W/")) return false;
    const current = opaque(etag);
    return !current.weak && `"${current.tag}"` === value;
  }
  if (modified === undefined) return false;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === Date.parse(modified);
}

/** What a `Range` header asks of a file of a given size. */
export type RangeRequest =
  /** No usable Range: absent, another unit, bad syntax, or several ranges (served whole, see below). */
  | { kind: "whole" }
  /** Every range lies past the end: 416 with `Content-Range: bytes *\/size`. */
  | { kind: "unsatisfiable" }
  /** One range, inclusive bounds already clamped to the file. */
  | { kind: "single"; start: number; end: number };

const WHOLE: RangeRequest = { kind: "whole" };
const UNSATISFIABLE: RangeRequest = { kind: "unsatisfiable" };

/**
 * Parses `Range: bytes=…` against a file of `size` bytes (RFC 9110 §14.1.2): `a-b` (end clamped),
 * `a-`, and `-n` (the last n bytes).
 *
 * A malformed header or an unknown unit is ignored and the whole file is served: RFC 9110 §14.2
 * lets a server ignore Range, and a 400 would break clients for no safety gain. Several
 * satisfiable ranges are also served as the whole file (200) rather than as
 * `multipart/byteranges`: §14.2 allows it, browsers and download managers ask for one range, and
 * it removes the many-small-ranges amplification that §17.15 warns about. If only one of several
 * ranges is satisfiable, that one is served.
 */
export function parseRange(header: string, size: number): RangeRequest {
  const eq = header.indexOf("=");
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return WHOLE;
  const satisfiable: Array<{ start: number; end: number }> = [];
  let specs = 0;
  for (const part of header.slice(eq + 1).split(",")) {
    const spec = part.trim();
    if (spec === "") continue; // RFC 9110 §5.6.1: empty list elements are ignored
    const m = /^(\d*)-(\d*)$/.exec(spec);
    if (m === null || (m[1] === "" && m[2] === "")) return WHOLE;
    specs++;
    if (m[1] === "") {
      const suffix = Number(m[2]);
      // §14.1.3: a zero suffix, or any suffix of an empty file, is unsatisfiable.
      if (suffix > 0 && size > 0) satisfiable.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = Number(m[1]);
    const end = m[2] === "" ? Infinity : Number(m[2]);
    if (end < start) return WHOLE; // §14.1.1: last-pos below first-pos makes the header invalid
    if (start < size) satisfiable.push({ start, end: Math.min(end, size - 1) });
  }
  if (specs === 0) return WHOLE; // `bytes=` alone is not a range-set
  if (satisfiable.length === 0) return UNSATISFIABLE;
  if (satisfiable.length > 1) return WHOLE;
  return { kind: "single", ...satisfiable[0]! };
}
