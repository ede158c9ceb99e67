/**
 * Reading credentials from a request: the `Authorization` header split into scheme and
 * credentials (RFC 7235 §2.1), and single-valued header lookups.
 *
 * Deliberately strict where two readings of a request could disagree: a credential-carrying header
 * sent twice is refused rather than "first one wins", because a proxy in front may have picked the
 * other one (RFC 9110 §5.3: Authorization is not a list-valued field, so it must not repeat).
 *
 * @module
 */
import type { ConnectionScope } from "../../layers/adapter/events.js";

/** An `Authorization` header split at the scheme. */
export interface AuthorizationParts {
  /** The scheme as sent (`Bearer`, `basic`, …); compare it case-insensitively (RFC 7235 §2.1). */
  readonly scheme: string;
  /** Everything after the scheme and its spaces; may be empty. */
  readonly credentials: string;
}

/** What a header lookup found: nothing, one value, or the header more than once. */
export type HeaderLookup = { readonly kind: "missing" } | { readonly kind: "one"; readonly value: string } | { readonly kind: "repeated" };

const MISSING: HeaderLookup = { kind: "missing" };
const REPEATED: HeaderLookup = { kind: "repeated" };

/**
 * Looks up `name` (lower-case) in the request headers. An empty value counts as missing (what
 * FastAPI's `if not api_key` does): a client that sends `X-API-Key:` has sent no key.
 */
export function singleHeader(scope: ConnectionScope, name: string): HeaderLookup {
  let found: string | undefined;
  for (const [key, value] of scope.headers) {
    if (key !== name) continue;
    if (found !== undefined) return REPEATED;
    found = value;
  }
  const trimmed = found?.trim();
  return trimmed === undefined || trimmed === "" ? MISSING : { kind: "one", value: trimmed };
}

// RFC 7230 token: the scheme's syntax.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Splits an `Authorization` value into scheme and credentials: `auth-scheme [ 1*SP credentials ]`.
 * Several spaces after the scheme are allowed (the grammar's `1*SP`); a tab is not. Undefined when
 * the scheme is not a token (an empty value, a leading space, a control character).
 */
export function splitAuthorization(value: string): AuthorizationParts | undefined {
  const space = value.indexOf(" ");
  const scheme = space === -1 ? value : value.slice(0, space);
  if (!TOKEN.test(scheme)) return undefined;
  if (space === -1) return { scheme, credentials: "" };
  let start = space;
  while (value.charCodeAt(start) === 0x20) start++;
  return { scheme, credentials: value.slice(start) };
}

/** True when `scheme` names `expected` (auth schemes are case-insensitive, RFC 7235 §2.1). */
export function isScheme(scheme: string, expected: string): boolean {
  return scheme.length === expected.length && scheme.toLowerCase() === expected.toLowerCase();
}

/**
 * RFC 6750 §2.1 `b64token`: the only shape a Bearer token may have. Rejecting anything else keeps
 * spaces, quotes and control characters out of every later step (token lookups, log lines).
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True when `token` is a syntactically valid RFC 6750 bearer token. */
export function isBearerToken(token: string): boolean {
  return B64TOKEN.test(token);
}
