/**
 * A response's header list with the setters handlers use on it: replace, append, set and delete
 * cookies. Shared by every response object and by {@link ResponseParts}, the headers and status a
 * handler sets for a plain return value (FastAPI's `response: Response` parameter).
 *
 * @module
 */
import type { HeaderList } from "../adapter/events.js";
import { deleteCookieHeader, setCookieHeader, signCookieValue, type CookieOptions } from "./cookies.js";

/** Options for {@link ResponseHeaders.setCookie}: the cookie's attributes, and keys to sign it with. */
export interface SetCookieOptions extends CookieOptions {
  /** `[current, ...previous]` keys (32+ characters): the value is signed with the first; read it back with `unsignCookieValue`. */
  signWith?: readonly string[];
}

/** The attributes {@link ResponseHeaders.deleteCookie} must repeat for the browser to match the cookie. */
export type DeleteCookieOptions = Pick<CookieOptions, "path" | "domain" | "secure" | "sameSite" | "partitioned">;

/** A lower-cased header list and its setters; the list can be changed until the response is sent. */
export class ResponseHeaders {
  readonly headers: HeaderList;

  constructor(headers: HeaderList = []) {
    this.headers = headers;
  }

  /** Replaces every header named `name` (case-insensitive) with one of value `value`. */
  setHeader(name: string, value: string): this {
    const key = name.toLowerCase();
    for (let i = this.headers.length - 1; i >= 0; i--) if (this.headers[i]![0] === key) this.headers.splice(i, 1);
    this.headers.push([key, value]);
    return this;
  }

  /** Adds a header line, keeping the ones already there (for headers that may repeat). */
  appendHeader(name: string, value: string): this {
    this.headers.push([name.toLowerCase(), value]);
    return this;
  }

  /**
   * Adds a `Set-Cookie` header. Defaults: `Path=/`, `HttpOnly`, `SameSite=Lax`. With `signWith`,
   * the value is HMAC-signed (see `signCookieValue`). Throws a `TypeError` for a bad name or a
   * combination browsers would drop (`SameSite=None` without `secure`).
   */
  setCookie(name: string, value: string, options: SetCookieOptions = {}): this {
    const { signWith, ...attributes } = options;
    const stored = signWith === undefined ? value : signCookieValue(name, value, signWith);
    return this.appendHeader("set-cookie", setCookieHeader(name, stored, attributes));
  }

  /** Tells the browser to drop a cookie; `path` and `domain` must match the ones it was set with. */
  deleteCookie(name: string, options: DeleteCookieOptions = {}): this {
    return this.appendHeader("set-cookie", deleteCookieHeader(name, options));
  }
}
