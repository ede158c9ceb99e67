/**
 * Response-header checks for uWebSockets.js. node's `writeHead` rejects header names that are not
 * RFC 9110 §5.1 tokens and values with CR, LF or NUL (§5.5); uWS writes whatever it is given, which
 * would let an app (or a value echoed from a request) split the response. So the uWS adapter checks
 * the whole list before writing any of it.
 *
 * @module
 */
import type { HeaderList } from "./events.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Header names already found to be tokens. An app sends the same few names on every response, and
 * a string that was a token stays one: a set lookup instead of a regex per header per response
 * (the two regexes were a tenth of a validated GET's in-process time on uWS). Bounded, so names
 * that vary per request (a hostile echo) cannot grow it without limit; past the bound, names are
 * simply checked every time.
 */
const knownTokens = new Set<string>();
const MAX_KNOWN_TOKENS = 256;

function isToken(name: string): boolean {
  if (knownTokens.has(name)) return true;
  if (!TOKEN.test(name)) return false;
  if (knownTokens.size < MAX_KNOWN_TOKENS) knownTokens.add(name);
  return true;
}

/**
 * Returns null when every pair is a valid `[token, field-value]`, otherwise a description of the
 * first bad one (for the `ProtocolError`).
 */
export function invalidHeader(list: HeaderList): string | null {
  for (let i = 0; i < list.length; i++) {
    const pair = list[i];
    const name = pair[0];
    const value = pair[1];
    if (typeof name !== "string" || typeof value !== "string") return `header ${JSON.stringify(name)} must be a [string, string] pair`;
    if (!isToken(name)) return `invalid header name ${JSON.stringify(name)}`;
    if (BAD_VALUE.test(value)) return `invalid character in header ${JSON.stringify(name)}`;
  }
  return null;
}

/** Whether `name` (any case) is content-length or transfer-encoding: uWS frames bodies itself. */
export function isFramingHeader(name: string): boolean {
  if (name.length !== 14 && name.length !== 17) return false;
  const lower = name.toLowerCase();
  return lower === "content-length" || lower === "transfer-encoding";
}
