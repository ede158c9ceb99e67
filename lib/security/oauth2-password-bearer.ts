/**
 * OAuth2 password flow with bearer tokens (FastAPI's `OAuth2PasswordBearer`): a dependency that
 * resolves the bearer token and documents the flow, so Swagger UI's Authorize button posts the
 * user's name and password to `tokenUrl` and sends the token it gets back.
 *
 * It only extracts the token (same rules as {@link httpBearer}); verifying it, and requiring
 * scopes, is {@link requireScopes}' job. The token endpoint itself is the app's route, reading
 * its body with {@link readPasswordForm}.
 *
 * @module
 */
import { dependency } from "../../layers/di/dependency.js";
import { bearerChallenge, bearerTokenOf } from "./http-bearer.js";
import { asSecurityDependency, type Credential, type SchemeOptions, type SecurityDependency } from "./security-dependency.js";
import { checkScopeToken } from "./scope-token.js";

/** Options of {@link oauth2PasswordBearer}. */
export interface OAuth2PasswordBearerOptions extends SchemeOptions {
  /**
   * Where clients post the password form for a token; relative URLs are resolved against the
   * OpenAPI document's URL (so `"token"` works behind a path prefix).
   */
  tokenUrl: string;
  /** Where clients refresh a token, if the app issues refresh tokens. */
  refreshUrl?: string;
  /** The scopes the app grants, scope → description (shown by Swagger UI's Authorize dialog). */
  scopes?: Readonly<Record<string, string>>;
}

/**
 * OAuth2 password flow, bearer tokens.
 *
 * @example
 * const oauth2 = oauth2PasswordBearer({ tokenUrl: "token", scopes: { "books:write": "Add and remove books" } });
 * const writer = requireScopes(oauth2, ["books:write"], (token) => principalFrom(token));
 * app.post("/books", { deps: { user: writer }, body: BookCreate }, ({ deps, body }) => …);
 */
export function oauth2PasswordBearer<const O extends OAuth2PasswordBearerOptions>(options: O): SecurityDependency<Credential<O, string>> {
  if (typeof options.tokenUrl !== "string" || options.tokenUrl === "") throw new TypeError("oauth2PasswordBearer needs a tokenUrl");
  const scopes = { ...options.scopes };
  for (const name of Object.keys(scopes)) checkScopeToken(name);
  const schemeName = options.schemeName ?? "OAuth2PasswordBearer";
  const autoError = options.autoError ?? true;
  const password: Record<string, unknown> = { tokenUrl: options.tokenUrl, scopes };
  if (options.refreshUrl !== undefined) password.refreshUrl = options.refreshUrl;
  const scheme: Record<string, unknown> = { type: "oauth2", flows: { password } };
  if (options.description !== undefined) scheme.description = options.description;
  const dep = dependency({ name: schemeName, security: { name: schemeName, scheme, scopes: [] } }, ({ scope }) => bearerTokenOf(scope, autoError));
  return asSecurityDependency(dep, bearerChallenge("invalid_token")) as SecurityDependency<Credential<O, string>>;
}
