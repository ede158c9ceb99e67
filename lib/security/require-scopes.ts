/**
 * Requiring OAuth2 scopes (FastAPI's `Security(dep, scopes=[…])` with `SecurityScopes`): a
 * dependency that takes a bearer token from a scheme, verifies it with the app's function, and
 * checks that the token grants every required scope.
 *
 * Answers, per RFC 6750 §3.1 (every challenge names the required scopes, §3):
 * - no token (a scheme with `autoError: false` resolved nothing): 401 `Bearer scope="…"`;
 * - `verify` resolved undefined (bad signature, expired, unknown user): 401
 *   `Bearer error="invalid_token", scope="…"`;
 * - a valid token without every required scope: **403** `Bearer error="insufficient_scope", scope="…"`.
 *   (FastAPI's tutorial answers 401 here; 403 is what the RFC says and what tells a client that
 *   logging in again as the same user will not help.)
 *
 * The dependency's `security` names the scheme with the required scopes, so the OpenAPI document
 * lists them on every route that depends on it.
 *
 * @module
 */
import type { ConnectionScope } from "../../layers/adapter/events.js";
import { dependency, type DependencyMap, type ResolvedDeps } from "../../layers/di/dependency.js";
import { HttpException } from "../errors.js";
import { bearerChallenge } from "./http-bearer.js";
import { checkScopeToken } from "./scope-token.js";
import {
  asSecurityDependency,
  INVALID_CREDENTIALS,
  NOT_AUTHENTICATED,
  NOT_ENOUGH_PERMISSIONS,
  unauthorizedError,
  type SecurityDependency,
} from "./security-dependency.js";

/** What a verified token must at least say: the scopes it grants. */
export interface Principal {
  readonly scopes: readonly string[];
}

/** What `verify` receives besides the token. */
export interface VerifyContext<D extends DependencyMap> {
  /** The request. */
  readonly scope: ConnectionScope;
  /** The dependencies passed to {@link requireScopes}, resolved. */
  readonly deps: ResolvedDeps<D>;
  /** The scopes this dependency requires (FastAPI's `SecurityScopes.scopes`). */
  readonly requiredScopes: readonly string[];
}

/** Verifies a token: the principal it stands for, or undefined when it is not valid. */
export type VerifyToken<P extends Principal, D extends DependencyMap> = (token: string, ctx: VerifyContext<D>) => P | undefined | Promise<P | undefined>;

// A dependency name no user map can collide with.
const TOKEN = "\0bearer-token";

/** The scopes an OAuth2 scheme object declares across its flows, or undefined for other schemes. */
function declaredScopes(scheme: Readonly<Record<string, unknown>>): Set<string> | undefined {
  if (scheme.type !== "oauth2") return undefined;
  const flows = (scheme.flows ?? {}) as Record<string, { scopes?: Record<string, string> }>;
  return new Set(Object.values(flows).flatMap((flow) => Object.keys(flow.scopes ?? {})));
}

/**
 * A dependency resolving the verified principal of a bearer token that grants every scope in
 * `scopes`. `bearer` is an {@link oauth2PasswordBearer} (or {@link httpBearer}); for an OAuth2
 * scheme, each required scope must be one it declares (a typo fails at startup, not in production).
 *
 * @example
 * const writer = requireScopes(oauth2, ["books:write"], (token) => {
 *   const claims = verifyJwt(token, key);
 *   return claims && { username: String(claims.sub), scopes: claims.scopes as string[] };
 * });
 * // with services: requireScopes(oauth2, ["admin"], (token, { deps }) => deps.users.byToken(token), { users: UserRepository })
 *
 * @throws TypeError at definition for a scope that is not a scope token or not declared by the scheme
 */
export function requireScopes<P extends Principal, const D extends DependencyMap = Record<never, never>>(
  bearer: SecurityDependency<string> | SecurityDependency<string | undefined>,
  scopes: readonly string[],
  verify: VerifyToken<P, D>,
  deps?: D,
): SecurityDependency<P> {
  const required = [...new Set(scopes)];
  const declared = declaredScopes(bearer.security.scheme);
  for (const scope of required) {
    checkScopeToken(scope);
    if (declared !== undefined && !declared.has(scope)) {
      throw new TypeError(`scope "${scope}" is not declared by the security scheme "${bearer.security.name}"`);
    }
  }
  const invalid = bearerChallenge("invalid_token", required);
  const missing = bearerChallenge(undefined, required);
  const insufficient = bearerChallenge("insufficient_scope", required);

  const dep = dependency(
    {
      name: `requireScopes(${required.join(" ")})`,
      deps: { ...deps, [TOKEN]: bearer } as DependencyMap,
      security: { name: bearer.security.name, scheme: bearer.security.scheme, scopes: required },
    },
    async ({ scope, deps: resolved }): Promise<P> => {
      const { [TOKEN]: token, ...rest } = resolved as Record<string, unknown>;
      if (typeof token !== "string") throw unauthorizedError(missing, NOT_AUTHENTICATED);
      const principal = await verify(token, { scope, deps: rest as ResolvedDeps<D>, requiredScopes: required });
      if (principal === undefined || principal === null) throw unauthorizedError(invalid, INVALID_CREDENTIALS);
      const granted = new Set(principal.scopes);
      if (!required.every((scope) => granted.has(scope))) {
        throw new HttpException(403, NOT_ENOUGH_PERMISSIONS, [["www-authenticate", insufficient]]);
      }
      return principal;
    },
  );
  return asSecurityDependency(dep, invalid) as SecurityDependency<P>;
}
