/**
 * HTTP Basic authentication (RFC 7617; FastAPI's `HTTPBasic`): a dependency resolving the
 * `{ username, password }` of `Authorization: Basic base64(user:pass)`.
 *
 * Parsing, per RFC 7617 §2: the scheme name in any case; the credentials strict base64 (RFC 4648
 * §4, padded: `Buffer.from(…, "base64")` alone would skip invalid characters and accept garbage);
 * the decoded bytes UTF-8 (the `charset="UTF-8"` the challenge announces, §2.1), refused when not
 * valid UTF-8; split at the FIRST colon, since a user-id cannot contain one but a password can.
 * Anything else is a 401 with the same challenge, which makes a browser ask again.
 *
 * Checking the pair is the caller's job, with {@link safeCompare} or {@link verifyPassword}; a
 * wrong pair should be answered with `basic.unauthorized()` so the challenge comes along.
 *
 * @module
 */
import { dependency } from "../../layers/di/dependency.js";
import { isScheme, singleHeader, splitAuthorization } from "./authorization-header.js";
import {
  asSecurityDependency,
  INVALID_CREDENTIALS,
  NOT_AUTHENTICATED,
  quotedString,
  unauthorizedError,
  type Credential,
  type SchemeOptions,
  type SecurityDependency,
} from "./security-dependency.js";

/** What {@link httpBasic} resolves. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/** Options of {@link httpBasic}. */
export interface HttpBasicOptions extends SchemeOptions {
  /**
   * The protection space named in the challenge (RFC 7617 §2 makes `realm` required); browsers
   * show it in their login prompt. Default `"api"`.
   */
  realm?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes Basic credentials; undefined when malformed. Exported for tests and custom schemes. */
export function parseBasicCredentials(encoded: string): BasicCredentials | undefined {
  if (encoded === "" || !BASE64.test(encoded)) return undefined;
  let decoded: string;
  try {
    decoded = UTF8.decode(Buffer.from(encoded, "base64"));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  // RFC 7617 §2: control characters are not allowed in either part.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * HTTP Basic authentication.
 *
 * @example
 * const basic = httpBasic({ realm: "admin" });
 * app.get("/admin", { deps: { credentials: basic } }, async ({ deps }) => {
 *   const user = await users.find(deps.credentials.username);
 *   if (!(await verifyPassword(deps.credentials.password, user?.hash ?? DUMMY_HASH)) || !user) throw basic.unauthorized();
 *   return { user: user.name };
 * });
 */
export function httpBasic<const O extends HttpBasicOptions>(options: O = {} as O): SecurityDependency<Credential<O, BasicCredentials>> {
  const schemeName = options.schemeName ?? "HTTPBasic";
  const autoError = options.autoError ?? true;
  const challenge = `Basic realm=${quotedString(options.realm ?? "api")}, charset="UTF-8"`;
  const scheme: Record<string, unknown> = { type: "http", scheme: "basic" };
  if (options.description !== undefined) scheme.description = options.description;

  const dep = dependency({ name: schemeName, security: { name: schemeName, scheme, scopes: [] } }, ({ scope }): BasicCredentials | undefined => {
    const header = singleHeader(scope, "authorization");
    const parts = header.kind === "one" ? splitAuthorization(header.value) : undefined;
    if (header.kind === "missing" || (parts !== undefined && !isScheme(parts.scheme, "basic"))) {
      // No Basic credentials at all (another scheme's are not ours to judge).
      if (!autoError) return undefined;
      throw unauthorizedError(challenge, NOT_AUTHENTICATED);
    }
    const credentials = parts === undefined ? undefined : parseBasicCredentials(parts.credentials);
    if (credentials !== undefined) return credentials;
    if (!autoError) return undefined;
    throw unauthorizedError(challenge, INVALID_CREDENTIALS);
  });
  return asSecurityDependency(dep, challenge) as SecurityDependency<Credential<O, BasicCredentials>>;
}
