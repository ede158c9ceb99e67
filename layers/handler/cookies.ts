/**
 * Setting cookies on a response, and the signed-cookie variant (Starlette's `set_cookie` /
 * `delete_cookie`, plus what itsdangerous gives Flask users).
 *
 * A signed cookie's value is `<value>.<signature>`: base64url HMAC-SHA256 over
 * `laminar.cookie.v1.<name>.<value>`. The name is part of what is signed, so a value signed for
 * one cookie cannot be replayed as another; the prefix keeps the session middleware's signatures
 * (made over a different prefix) from being accepted here. Signing proves the server wrote the
 * value; it does not hide it: never put a secret in a cookie, signed or not.
 *
 * Key rotation: sign with the first key of `[current, ...previous]`, accept any of them.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { serialize } from "cookie";

/** The attributes of a `Set-Cookie` header (RFC 6265bis). */
export interface CookieOptions {
  /** Lifetime in seconds; 0 or less expires the cookie now. Absent: a browser-session cookie. */
  maxAge?: number;
  /** Absolute expiry; `maxAge` wins where both are given (browsers prefer Max-Age). */
  expires?: Date;
  /** Default `/`, so the cookie is sent for every path (Starlette's default too). */
  path?: string;
  domain?: string;
  /** Only over HTTPS. Default false. */
  secure?: boolean;
  /** Hidden from scripts. Default true: a handler that wants scripts to read a cookie says so. */
  httpOnly?: boolean;
  /** Default `lax`, as browsers assume and Starlette sets. `none` requires `secure`. */
  sameSite?: "strict" | "lax" | "none";
  /** CHIPS partitioned cookie; requires `secure`. */
  partitioned?: boolean;
  priority?: "low" | "medium" | "high";
}

/** A cookie name as RFC 6265 allows it: a token (no separators, spaces or controls). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The value of one `Set-Cookie` header. The value is percent-encoded (so any string round-trips
 * through {@link HandlerContext.cookies}, which decodes it). Throws a `TypeError` for a name that
 * is not a token or for attribute combinations browsers reject, at the call that made them.
 */
export function setCookieHeader(name: string, value: string, options: CookieOptions = {}): string {
  if (!COOKIE_NAME.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}`);
  const sameSite = options.sameSite ?? "lax";
  if ((sameSite === "none" || options.partitioned === true) && options.secure !== true) {
    throw new TypeError(`cookie ${name}: SameSite=None and Partitioned require secure: true (browsers drop the cookie otherwise)`);
  }
  return serialize(name, value, {
    maxAge: options.maxAge === undefined ? undefined : Math.max(0, Math.floor(options.maxAge)),
    expires: options.expires,
    path: options.path ?? "/",
    domain: options.domain,
    secure: options.secure === true,
    httpOnly: options.httpOnly ?? true,
    sameSite,
    partitioned: options.partitioned === true,
    priority: options.priority,
  });
}

/** The `Set-Cookie` value that deletes a cookie: empty, `Max-Age=0`, an expiry in the past. */
export function deleteCookieHeader(name: string, options: Pick<CookieOptions, "path" | "domain" | "secure" | "sameSite" | "partitioned"> = {}): string {
  return setCookieHeader(name, "", { ...options, maxAge: 0, expires: new Date(0) });
}

function signature(name: string, value: string, key: string): string {
  return createHmac("sha256", key).update(`laminar.cookie.v1.${name}.${value}`).digest("base64url");
}

function checkKeys(keys: readonly string[]): void {
  if (keys.length === 0) throw new TypeError("signed cookies need at least one secret key");
  for (const key of keys) {
    if (key.length < 32) throw new TypeError("a cookie signing key must be at least 32 characters");
  }
}

/** `value` with its signature appended, signed with the first of `keys`. */
export function signCookieValue(name: string, value: string, keys: readonly string[]): string {
  checkKeys(keys);
  return `${value}.${signature(name, value, keys[0]!)}`;
}

/**
 * The original value of a signed cookie, or undefined when it was not signed by any of `keys`
 * (tampered, truncated, signed for another cookie name, or not signed at all). Comparison is
 * constant-time.
 */
export function unsignCookieValue(name: string, signed: string | undefined, keys: readonly string[]): string | undefined {
  checkKeys(keys);
  if (signed === undefined) return undefined;
  const dot = signed.lastIndexOf(".");
  if (dot < 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1), "base64url");
  for (const key of keys) {
    const expected = Buffer.from(signature(name, value, key), "base64url");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return value;
  }
  return undefined;
}
