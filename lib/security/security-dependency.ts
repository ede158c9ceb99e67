/**
 * What every security scheme shares: the dependency type they return, how their 401/403 answers
 * are built, and the options common to all.
 *
 * ## Status codes (one rule for every scheme)
 *
 * - **401** with a `WWW-Authenticate` challenge when credentials are missing, malformed or wrong:
 *   RFC 7235 §3.1 (a 401 MUST carry the challenge), RFC 7617 for Basic, RFC 6750 §3.1 for Bearer.
 *   This is what FastAPI does since fastapi/fastapi#13786 (its security classes answered 403
 *   "Not authenticated" before, fastapi#2026 / #10177); laminar has no legacy clients, so it takes
 *   the standard behaviour and does not offer the old 403.
 * - **403** only when the credentials are valid but not enough: an OAuth2 token without a required
 *   scope (RFC 6750 §3.1 `insufficient_scope`).
 *
 * API keys have no registered HTTP auth scheme; their challenge is `APIKey` (what FastAPI sends),
 * which tells a client what is missing without claiming a standard it does not follow.
 *
 * ## Credentials never leave the server
 *
 * Error bodies are fixed strings (`"Not authenticated"`, `"Invalid authentication credentials"`)
 * and never echo what was sent; the access log writes no headers and no query string. A custom
 * `verify` function should keep to the same rule.
 *
 * @module
 */
import type { FunctionDependency, SecurityRequirement } from "../../layers/di/dependency.js";
import { HttpException } from "../errors.js";

/** The body detail when no credentials came with the request. */
export const NOT_AUTHENTICATED = "Not authenticated";
/** The body detail when credentials came but are malformed or wrong. */
export const INVALID_CREDENTIALS = "Invalid authentication credentials";
/** The body detail when a valid token lacks a required scope. */
export const NOT_ENOUGH_PERMISSIONS = "Not enough permissions";

/** Options every scheme takes. */
export interface SchemeOptions {
  /** The key in `components.securitySchemes`; default the scheme's FastAPI class name (`HTTPBearer`, …). */
  schemeName?: string;
  /** The scheme's description in the OpenAPI document. */
  description?: string;
  /**
   * Answer 401 when the credentials are missing or malformed (default true). With false the
   * dependency resolves `undefined` instead, for optional authentication or for trying several
   * schemes in turn (FastAPI's `auto_error=False`).
   */
  autoError?: boolean;
}

/** What a scheme resolves: `T`, or also `undefined` unless `autoError` is (or defaults to) true. */
export type Credential<O extends SchemeOptions, T> = "autoError" extends keyof O ? (O["autoError"] extends true | undefined ? T : T | undefined) : T;

/**
 * A security scheme as a dependency: resolves the credential (`T`), carries its OpenAPI
 * `security` metadata, and builds the scheme's own 401 for code that checks the credential later
 * (a token that does not verify, a password that does not match).
 */
export type SecurityDependency<T> = FunctionDependency<T> & SecurityParts;

/** The scheme-level parts of a {@link SecurityDependency}. */
export interface SecurityParts {
  readonly security: SecurityRequirement;
  /** The `WWW-Authenticate` value of this scheme's 401 answers. */
  readonly challenge: string;
  /**
   * A 401 HttpException with this scheme's challenge, for wrong credentials found later.
   *
   * @example
   * if (!safeCompare(credentials.password, expected)) throw basic.unauthorized();
   */
  unauthorized(detail?: string): HttpException;
}

/** A 401 with `challenge` as its `WWW-Authenticate` header. */
export function unauthorizedError(challenge: string, detail: string): HttpException {
  return new HttpException(401, detail, [["www-authenticate", challenge]]);
}

/**
 * `value` as an RFC 7230 quoted-string. Refuses control characters (they would split or corrupt
 * the header), so a realm or scope cannot inject a header line.
 *
 * @throws TypeError when `value` holds a control character
 */
export function quotedString(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw new TypeError(`a quoted-string cannot contain control characters: ${JSON.stringify(value)}`);
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** Adds the scheme-level parts to a dependency made by `dependency()`. */
export function asSecurityDependency<T>(dep: FunctionDependency<T>, challenge: string): SecurityDependency<T> {
  if (dep.security === undefined) throw new TypeError("a security dependency needs its security requirement");
  return Object.assign(dep, {
    security: dep.security,
    challenge,
    unauthorized: (detail: string = INVALID_CREDENTIALS) => unauthorizedError(challenge, detail),
  });
}
