/**
 * JSON request bodies: media type check, decoding, FastAPI-shaped decode errors, and the
 * prototype-poisoning guard.
 *
 * @module
 */
import { RequestValidationError, UnsupportedMediaTypeError } from "../../lib/errors.js";
import { jsonErrorOffset } from "./json-error-offset.js";
import { findForbiddenKey, mayHaveForbiddenKeys } from "./json-forbidden-keys.js";

/**
 * Whether a Content-Type names JSON: `application/json` or any `application/*+json` (RFC 6839 §3.1
 * structured syntax suffix), case-insensitive, parameters ignored. A `charset` parameter has no
 * effect on JSON (RFC 8259 §11: "no charset parameter is defined"; §8.1: JSON is UTF-8).
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === "application/json") return true;
  const semicolon = contentType.indexOf(";");
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (type === "application/json") return true;
  if (!type.startsWith("application/") || !type.endsWith("+json")) return false;
  const subtype = type.slice("application/".length, -"+json".length);
  return subtype.length > 0 && !/[\s/]/.test(subtype);
}

/**
 * Parses a JSON request body.
 *
 * - An empty body returns `undefined` (JSON cannot produce it): the caller reports the body as
 *   missing (FastAPI: 422, `loc: ["body"]`, `type: "missing"`), whatever the Content-Type.
 * - A non-empty body needs a JSON Content-Type, else `UnsupportedMediaTypeError` (415). FastAPI
 *   parses a body with *no* Content-Type as JSON; laminar does not, because a cross-site
 *   `fetch(url, {method: "POST", body: blob})` sends no Content-Type without a CORS preflight,
 *   the same CSRF path FastAPI closed for `text/plain` (CVE-2021-32677).
 * - A UTF-8 byte order mark is skipped (RFC 8259 §8.1 allows ignoring it).
 * - Malformed JSON throws `RequestValidationError` with FastAPI's issue:
 *   `{loc: ["body", <position>], msg: "JSON decode error", type: "json_invalid", ctx: {error}}`.
 * - A `__proto__` key, or a `constructor` with a `prototype`, anywhere in the value throws
 *   `RequestValidationError` (`type: "value_error"`, `loc` pointing at the key).
 */
export function parseJsonBody(bytes: Buffer, contentType: string | undefined): unknown {
  if (bytes.length === 0) return undefined;
  if (!isJsonContentType(contentType)) throw new UnsupportedMediaTypeError(contentType ?? "(none)", "application/json");
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  // toString() without offsets is node's fast path; the offset form normalizes its arguments.
  const text = start === 0 ? bytes.toString() : bytes.toString("utf8", start);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw decodeError(text, error);
  }
  if (mayHaveForbiddenKeys(text) && typeof value === "object" && value !== null) {
    const path = findForbiddenKey(value);
    if (path !== undefined) {
      const key = path[path.length - 1] === "prototype" ? "constructor.prototype" : "__proto__";
      throw new RequestValidationError([{ loc: ["body", ...path], msg: `Value error, "${key}" keys are not allowed`, type: "value_error" }]);
    }
  }
  return value;
}

function decodeError(text: string, error: unknown): RequestValidationError {
  const offset = jsonErrorOffset(text);
  // V8's message, without the excerpt of the input it may quote and without its own position
  // (which `loc` carries): short, and the same on every Node version that words it the same.
  const message = error instanceof Error ? error.message : String(error);
  const reason = message.replace(/, ".*" is not valid JSON$/s, "").replace(/ in JSON at position \d+.*$/s, "");
  return new RequestValidationError([
    { loc: ["body", offset < 0 ? 0 : offset], msg: "JSON decode error", type: "json_invalid", input: {}, ctx: { error: reason } },
  ]);
}
