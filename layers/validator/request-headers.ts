/**
 * Header and cookie parsing for the validator's `header` and `cookie` inputs.
 *
 * @module
 */
import { parse as parseCookieHeader } from "cookie";
import type { HeaderList } from "../adapter/events.js";

/**
 * Collapses a header list into one value per name: names lower-cased, repeated fields joined
 * with `", "` (RFC 9110 §5.3: a recipient may combine them that way), except `cookie`, whose
 * fields are joined with `"; "` (RFC 9113 §8.2.3 lets HTTP/2 clients split the cookie header).
 *
 * The result has no prototype and never a `__proto__` key.
 *
 * @example
 * headersToObject([["Accept", "a/b"], ["accept", "c/d"]]); // { accept: "a/b, c/d" }
 */
export function headersToObject(headers: HeaderList): Record<string, string> {
  const result = Object.create(null) as Record<string, string>;
  for (let i = 0; i < headers.length; i++) {
    const [rawName, value] = headers[i]!;
    const name = rawName.toLowerCase();
    if (name === "__proto__") continue;
    const previous = result[name];
    result[name] = previous === undefined ? value : `${previous}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return result;
}

/**
 * Parses a `Cookie` header (RFC 6265 §5.4) with the `cookie` package; never throws. Malformed
 * pairs are skipped, values are percent-decoded when they can be (kept as sent otherwise), the
 * first of two same-named cookies wins (the browser sends the most specific path first). The
 * result has no prototype and never a `__proto__` key.
 *
 * @example
 * parseCookies("session=abc; theme=dark"); // { session: "abc", theme: "dark" }
 */
export function parseCookies(headerValue: string | undefined): Record<string, string> {
  if (headerValue === undefined || headerValue === "") return Object.create(null) as Record<string, string>;
  let cookies: Record<string, string | undefined>;
  try {
    cookies = parseCookieHeader(headerValue);
  } catch {
    return Object.create(null) as Record<string, string>;
  }
  if (Object.prototype.hasOwnProperty.call(cookies, "__proto__")) delete cookies.__proto__;
  return cookies as Record<string, string>;
}
