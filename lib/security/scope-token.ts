/**
 * OAuth2 scope names (RFC 6749 §3.3): `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, i.e.
 * visible ASCII without space, `"` and `\`. Checked where scopes are declared, so a scope can be
 * written into a `WWW-Authenticate` quoted-string and a space-separated `scope` parameter as is.
 *
 * @module
 */

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** True when `scope` is a valid RFC 6749 scope token. */
export function isScopeToken(scope: string): boolean {
  return SCOPE_TOKEN.test(scope);
}

/**
 * Refuses a scope name that is not an RFC 6749 scope token.
 *
 * @throws TypeError naming the scope
 */
export function checkScopeToken(scope: string): void {
  if (!isScopeToken(scope)) throw new TypeError(`invalid OAuth2 scope ${JSON.stringify(scope)}: visible ASCII without space, '"' or '\\'`);
}

/** Splits a space-separated `scope` parameter (RFC 6749 §3.3) into its tokens, dropping empties. */
export function splitScopes(value: string): string[] {
  return value.split(" ").filter((scope) => scope !== "");
}
