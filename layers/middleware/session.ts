/**
 * Layer 3: sessions stored in a signed cookie (Starlette's `SessionMiddleware`, with HMAC-SHA256
 * from node:crypto instead of itsdangerous).
 *
 * The cookie value is `<payload>.<timestamp>.<signature>`: the session as base64url JSON, the
 * signing time in seconds, and base64url HMAC-SHA256 over `laminar.session.v1.<cookie name>.
 * <payload>.<timestamp>` (the prefix and name keep a signature made for another purpose or
 * another cookie with the same key from being replayed as a session). The cookie is signed, not
 * encrypted: the client can read what is in it, so keep secrets out of the session.
 *
 * Reading is lazy: the cookie is verified on the first {@link sessionOf} call of a request, so a
 * request whose handler never asks costs a header lookup. Whatever is wrong with the cookie —
 * not three parts, a bad signature, a key not in `secretKeys`, expired, a payload that is not a
 * JSON object, longer than {@link MAX_SESSION_COOKIE_LENGTH} — yields an empty session, never an
 * error. Signatures are compared with `crypto.timingSafeEqual`.
 *
 * Key rotation: `secretKeys: [current, ...previous]`. Cookies are signed with the first and
 * accepted when any verifies, so a new key can be deployed first and the old one dropped once
 * `maxAge` has passed.
 *
 * Writing: when the response starts, the session is serialized again and compared with what
 * was read. Unchanged: no `Set-Cookie` (Starlette re-sends it on every response). Changed and not
 * empty: a new cookie, signed now, with `Max-Age`. Emptied (or a rejected cookie left empty): the
 * cookie is cleared (empty value, `Max-Age=0`, a past `Expires`). So `maxAge` counts from the last
 * change, not the last visit. A cookie longer than browsers keep (4096 bytes) raises
 * {@link SessionTooLargeError} instead of being silently dropped by the browser.
 *
 * WebSocket handshakes can read the session; changes made on a WebSocket are not sent back (a 101
 * is no place for a cookie browsers reliably keep).
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { parse as parseCookieHeader, serialize as serializeCookie } from "cookie";
import type { App, ConnectionScope, Scope, SendEvent } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";
import { LaminarError } from "../../lib/errors.js";

/** Incoming session cookies longer than this are not verified (browsers keep at most 4096 bytes). */
export const MAX_SESSION_COOKIE_LENGTH = 4096;

/** The shortest secret key accepted: 32 characters (`crypto.randomBytes(32).toString("base64url")` is 43). */
export const MIN_SECRET_KEY_LENGTH = 32;

const KEY = "laminar.session";
const SIGNATURE_BYTES = 32;

/** Options of {@link session}. */
export interface SessionOptions {
  /** `[current, ...previous]`: signs with the first, accepts any. Each at least 32 characters. */
  secretKeys: readonly string[];
  /** Cookie name. Default `session`. */
  cookieName?: string;
  /** Lifetime in seconds from the last change (and the cookie's `Max-Age`); null: a browser-session cookie that never expires here. Default 14 days. */
  maxAge?: number | null;
  /** Cookie `Path`. Default `/`. */
  path?: string;
  /** Cookie `Domain`. Default none (this host only). */
  domain?: string;
  /** Cookie `SameSite`. Default `lax`; `none` requires `secure`. */
  sameSite?: "lax" | "strict" | "none";
  /** Cookie `Secure` (sent over HTTPS only). Default false. */
  secure?: boolean;
  /** Cookie `HttpOnly`. Default true. */
  httpOnly?: boolean;
  /** The clock, in milliseconds (tests). Default `Date.now`. */
  now?: () => number;
}

/** The session cookie would be longer than browsers keep. */
export class SessionTooLargeError extends LaminarError {
  constructor(length: number) {
    super("LMR_ERR_SESSION_TOO_LARGE", `The session cookie would be ${length} bytes, more than the ${MAX_SESSION_COOKIE_LENGTH} browsers keep`, 500);
  }
}

/** `sessionOf` was called on a request that no session layer saw. */
export class SessionNotInstalledError extends LaminarError {
  constructor() {
    super("LMR_ERR_SESSION_NOT_INSTALLED", "sessionOf() needs the session middleware in front of this route", 500);
  }
}

/** Validated settings shared by every request through one layer. */
interface SessionSettings {
  keys: Buffer[];
  cookieName: string;
  context: string;
  maxAge: number | null;
  now: () => number;
  attributes: { path: string; domain?: string; sameSite: "lax" | "strict" | "none"; secure: boolean; httpOnly: boolean };
}

/** One request's session: the raw cookie until first read, then the data and what it was. */
class SessionState {
  /** The cookie value as received, or undefined when there was none. */
  readonly cookie: string | undefined;
  data: Record<string, unknown> | undefined = undefined;
  /** JSON of the session as read (`{}` when empty or rejected). */
  original = "{}";
  /** A cookie was present but not accepted. */
  rejected = false;
  readonly settings: SessionSettings;

  constructor(settings: SessionSettings, cookie: string | undefined) {
    this.settings = settings;
    this.cookie = cookie;
  }

  load(): Record<string, unknown> {
    if (this.data !== undefined) return this.data;
    const decoded = this.cookie === undefined ? undefined : decodeSession(this.settings, this.cookie);
    this.rejected = this.cookie !== undefined && decoded === undefined;
    this.data = decoded ?? {};
    this.original = JSON.stringify(this.data);
    return this.data;
  }
}

/**
 * The request's session: a plain object to read and change (JSON-serializable values only).
 * Throws {@link SessionNotInstalledError} when no session layer ran before the caller.
 *
 * @example
 * app.post("/login", ({ scope }) => {
 *   sessionOf(scope).userId = 42;
 * });
 */
export function sessionOf(scope: Scope): Record<string, unknown> {
  const state = scope.type === "lifespan" ? undefined : (scope.extensions?.[KEY] as SessionState | undefined);
  if (state === undefined) throw new SessionNotInstalledError();
  return state.load();
}

/** Empties the request's session: the response clears the cookie. */
export function clearSession(scope: Scope): void {
  const data = sessionOf(scope);
  for (const key of Object.keys(data)) delete data[key];
}

/**
 * Creates the session layer. Throws a `TypeError` for no keys, a key shorter than 32 characters,
 * an invalid cookie name, a `maxAge` that is not a positive integer, or `sameSite: "none"` without
 * `secure`.
 *
 * @example
 * app.use(session({ secretKeys: [process.env.SESSION_KEY!, process.env.OLD_SESSION_KEY!], secure: true }));
 */
export function session(options: SessionOptions): Middleware {
  const settings = validate(options);
  return (next: App): App =>
    function sessionLayer(scope, receive, send) {
      if (scope.type === "lifespan") return next(scope, receive, send);
      const state = new SessionState(settings, cookieOf(scope, settings.cookieName));
      (scope.extensions ??= {})[KEY] = state;
      if (scope.type === "websocket") return next(scope, receive, send);
      return next(scope, receive, (event: SendEvent) => {
        if (event.type !== "http.response.start") return send(event);
        const setCookie = setCookieFor(state);
        return setCookie === undefined ? send(event) : send({ ...event, headers: [...event.headers, ["set-cookie", setCookie]] });
      });
    };
}

function validate(options: SessionOptions): SessionSettings {
  const { secretKeys, cookieName = "session", maxAge = 14 * 24 * 60 * 60, path = "/", domain, sameSite = "lax", secure = false, httpOnly = true } = options;
  if (!Array.isArray(secretKeys) || secretKeys.length === 0) throw new TypeError("session: secretKeys must hold at least one key");
  for (const [i, key] of secretKeys.entries()) {
    if (typeof key !== "string" || key.length < MIN_SECRET_KEY_LENGTH) {
      throw new TypeError(`session: secretKeys[${i}] must be a string of at least ${MIN_SECRET_KEY_LENGTH} characters`);
    }
  }
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) throw new TypeError(`session: invalid cookieName ${JSON.stringify(cookieName)}`);
  if (maxAge !== null && (!Number.isInteger(maxAge) || maxAge <= 0)) throw new TypeError(`session: maxAge must be a positive integer (seconds) or null, got ${String(maxAge)}`);
  if (sameSite === "none" && !secure) throw new TypeError('session: sameSite "none" requires secure: true (browsers drop it otherwise)');
  const attributes: SessionSettings["attributes"] = { path, sameSite, secure, httpOnly };
  if (domain !== undefined) attributes.domain = domain;
  // Serializing once validates path and domain now (the cookie package throws on invalid ones).
  serializeCookie(cookieName, "", attributes);
  return {
    keys: secretKeys.map((key) => Buffer.from(key, "utf8")),
    cookieName,
    context: `laminar.session.v1.${cookieName}.`,
    maxAge,
    now: options.now ?? Date.now,
    attributes,
  };
}

/** The session cookie's value (the first, if repeated); several Cookie lines are one list (RFC 6265 §5.4). */
function cookieOf(scope: ConnectionScope, name: string): string | undefined {
  let header: string | undefined;
  for (const [key, value] of scope.headers) if (key === "cookie") header = header === undefined ? value : `${header}; ${value}`;
  if (header === undefined || header.indexOf(name) === -1) return undefined;
  try {
    return parseCookieHeader(header)[name];
  } catch {
    return undefined;
  }
}

function sign(settings: SessionSettings, key: Buffer, payload: string, timestamp: string): Buffer {
  return createHmac("sha256", key).update(settings.context).update(payload).update(".").update(timestamp).digest();
}

/** The session in a cookie value, or undefined when anything about it is wrong. */
function decodeSession(settings: SessionSettings, value: string): Record<string, unknown> | undefined {
  if (value.length > MAX_SESSION_COOKIE_LENGTH) return undefined;
  const parts = value.split(".");
  if (parts.length !== 3) return undefined;
  const [payload, timestamp, signature] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || !/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return undefined;
  const given = Buffer.from(signature, "base64url");
  if (given.length !== SIGNATURE_BYTES) return undefined;
  let verified = false;
  // Every key is tried (no early exit), so the time taken says nothing about which one matched.
  for (const key of settings.keys) if (timingSafeEqual(sign(settings, key, payload, timestamp), given)) verified = true;
  if (!verified) return undefined;
  if (settings.maxAge !== null && settings.now() / 1000 - Number(timestamp) > settings.maxAge) return undefined;
  try {
    const data: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A signed cookie value for `json` (a serialized session), stamped now. */
function encodeSession(settings: SessionSettings, json: string): string {
  const payload = Buffer.from(json, "utf8").toString("base64url");
  const timestamp = String(Math.floor(settings.now() / 1000));
  return `${payload}.${timestamp}.${sign(settings, settings.keys[0]!, payload, timestamp).toString("base64url")}`;
}

/** The `Set-Cookie` this response needs, or undefined when the session is as it was read. */
function setCookieFor(state: SessionState): string | undefined {
  const { settings } = state;
  // Never read: unchanged by definition (and a rejected cookie stays until someone looks).
  if (state.data === undefined) return undefined;
  const json = JSON.stringify(state.data);
  const empty = json === "{}";
  if (json === state.original && !(empty && state.rejected)) return undefined;
  if (empty) {
    if (state.cookie === undefined) return undefined;
    return serializeCookie(settings.cookieName, "", { ...settings.attributes, maxAge: 0, expires: new Date(0) });
  }
  const cookie = serializeCookie(settings.cookieName, encodeSession(settings, json), settings.maxAge === null ? settings.attributes : { ...settings.attributes, maxAge: settings.maxAge });
  if (cookie.length > MAX_SESSION_COOKIE_LENGTH) throw new SessionTooLargeError(cookie.length);
  return cookie;
}

