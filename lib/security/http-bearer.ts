/**
 * HTTP Bearer authentication (RFC 6750; FastAPI's `HTTPBearer`): a dependency resolving the token
 * of `Authorization: Bearer <token>`. Verifying the token is the caller's job; answer a bad one
 * with `bearer.unauthorized()` (401, `error="invalid_token"`).
 *
 * RFC 6750 §3.1 shapes the answers: no Bearer credentials at all (no header, another scheme) is a
 * bare `WWW-Authenticate: Bearer` with no error code; a token that is not a `b64token` (empty,
 * containing spaces or quotes) is `error="invalid_token"`. Both are 401.
 *
 * @module
 */
import type { ConnectionScope } from "../../layers/adapter/events.js";
import { dependency } from "../../layers/di/dependency.js";
import { isBearerToken, isScheme, singleHeader, splitAuthorization } from "./authorization-header.js";
import {
  asSecurityDependency,
  INVALID_CREDENTIALS,
  NOT_AUTHENTICATED,
  unauthorizedError,
  type Credential,
  type SchemeOptions,
  type SecurityDependency,
} from "./security-dependency.js";

/** What the request carries for a Bearer scheme. */
export type BearerLookup = { readonly kind: "missing" } | { readonly kind: "invalid" } | { readonly kind: "token"; readonly token: string };

/**
 * Reads the bearer token of a request: `missing` when there is no `Authorization` header or it
 * names another scheme, `invalid` when it is repeated, has no token, or the token is malformed.
 */
export function readBearerToken(scope: ConnectionScope): BearerLookup {
  const header = singleHeader(scope, "authorization");
  if (header.kind === "missing") return { kind: "missing" };
  if (header.kind === "repeated") return { kind: "invalid" };
  const parts = splitAuthorization(header.value);
  if (parts === undefined) return { kind: "invalid" };
  if (!isScheme(parts.scheme, "bearer")) return { kind: "missing" };
  return isBearerToken(parts.credentials) ? { kind: "token", token: parts.credentials } : { kind: "invalid" };
}

/** The challenge for a bearer scheme, with an optional error code and scopes (RFC 6750 §3). */
export function bearerChallenge(error?: "invalid_token" | "insufficient_scope", scopes: readonly string[] = []): string {
  const params: string[] = [];
  if (error !== undefined) params.push(`error="${error}"`);
  // Scope tokens cannot hold quotes or backslashes (RFC 6749 §3.3; checked where scopes are declared).
  if (scopes.length > 0) params.push(`scope="${scopes.join(" ")}"`);
  return params.length === 0 ? "Bearer" : `Bearer ${params.join(", ")}`;
}

/**
 * The dependency body shared by {@link httpBearer} and `oauth2PasswordBearer`: the token, or the
 * RFC 6750 answer.
 */
export function bearerTokenOf(scope: ConnectionScope, autoError: boolean): string | undefined {
  const found = readBearerToken(scope);
  if (found.kind === "token") return found.token;
  if (!autoError) return undefined;
  if (found.kind === "missing") throw unauthorizedError(bearerChallenge(), NOT_AUTHENTICATED);
  throw unauthorizedError(bearerChallenge("invalid_token"), INVALID_CREDENTIALS);
}

/** Options of {@link httpBearer}. */
export interface HttpBearerOptions extends SchemeOptions {
  /** A hint for documentation (`"JWT"`): the scheme's `bearerFormat` in the OpenAPI document. */
  bearerFormat?: string;
}

/**
 * HTTP Bearer authentication.
 *
 * @example
 * const bearer = httpBearer({ bearerFormat: "JWT" });
 * const currentUser = dependency({ deps: { token: bearer } }, ({ deps }) => {
 *   const claims = verifyJwt(deps.token, key);
 *   if (claims === undefined) throw bearer.unauthorized();
 *   return claims.sub;
 * });
 */
export function httpBearer<const O extends HttpBearerOptions>(options: O = {} as O): SecurityDependency<Credential<O, string>> {
  const schemeName = options.schemeName ?? "HTTPBearer";
  const autoError = options.autoError ?? true;
  const scheme: Record<string, unknown> = { type: "http", scheme: "bearer" };
  if (options.bearerFormat !== undefined) scheme.bearerFormat = options.bearerFormat;
  if (options.description !== undefined) scheme.description = options.description;
  const dep = dependency({ name: schemeName, security: { name: schemeName, scheme, scopes: [] } }, ({ scope }) => bearerTokenOf(scope, autoError));
  return asSecurityDependency(dep, bearerChallenge("invalid_token")) as SecurityDependency<Credential<O, string>>;
}
