/**
 * API keys in a header, the query string or a cookie (FastAPI's `APIKeyHeader`, `APIKeyQuery`,
 * `APIKeyCookie`): each a dependency that resolves the key as sent, so the route (or a dependency
 * built on it) checks it, with {@link safeCompare} against a stored key.
 *
 * The key is not declared as a header/query/cookie *parameter*: the security scheme already
 * describes it in the OpenAPI document (FastAPI does the same), and Swagger UI's Authorize button
 * fills it in.
 *
 * A key sent twice (two headers, `?key=a&key=b`) is refused as malformed: which one a proxy or a
 * log saw is anyone's guess. Keys in the query string end up in browser history and proxy logs;
 * prefer the header.
 *
 * @module
 */
import { dependency } from "../../layers/di/dependency.js";
import type { ConnectionScope } from "../../layers/adapter/events.js";
import { parseCookies, parseQuery } from "../../layers/validator/request-inputs.js";
import { singleHeader, type HeaderLookup } from "./authorization-header.js";
import {
  asSecurityDependency,
  type Credential,
  INVALID_CREDENTIALS,
  NOT_AUTHENTICATED,
  unauthorizedError,
  type SchemeOptions,
  type SecurityDependency,
} from "./security-dependency.js";

/** Options of the API key schemes. */
export interface ApiKeyOptions extends SchemeOptions {
  /** The header, query parameter or cookie name. Header names are matched case-insensitively. */
  name: string;
}

/** The challenge of an API key 401: not a registered scheme, FastAPI's name for it. */
export const API_KEY_CHALLENGE = "APIKey";

type Location = "header" | "query" | "cookie";

const DEFAULT_NAMES: Record<Location, string> = { header: "APIKeyHeader", query: "APIKeyQuery", cookie: "APIKeyCookie" };

function fromQuery(scope: ConnectionScope, name: string): HeaderLookup {
  const value = parseQuery(scope.queryString)[name];
  if (Array.isArray(value)) return { kind: "repeated" };
  return value === undefined || value === "" ? { kind: "missing" } : { kind: "one", value };
}

function fromCookies(scope: ConnectionScope, name: string): HeaderLookup {
  // HTTP/2 clients may split cookies over several headers (RFC 9113 §8.2.3): join them back.
  const header = scope.headers
    .filter(([key]) => key === "cookie")
    .map(([, value]) => value)
    .join("; ");
  const value = parseCookies(header)[name];
  return value === undefined || value === "" ? { kind: "missing" } : { kind: "one", value };
}

function apiKey(location: Location, options: ApiKeyOptions): SecurityDependency<string | undefined> {
  if (typeof options.name !== "string" || options.name === "") throw new TypeError("an API key scheme needs a non-empty name");
  const key = location === "header" ? options.name.toLowerCase() : options.name;
  const schemeName = options.schemeName ?? DEFAULT_NAMES[location];
  const autoError = options.autoError ?? true;
  const scheme: Record<string, unknown> = { type: "apiKey", in: location, name: options.name };
  if (options.description !== undefined) scheme.description = options.description;
  const find = location === "header" ? singleHeader : location === "query" ? fromQuery : fromCookies;

  const dep = dependency({ name: schemeName, security: { name: schemeName, scheme, scopes: [] } }, ({ scope }): string | undefined => {
    const found = find(scope, key);
    if (found.kind === "one") return found.value;
    if (!autoError) return undefined;
    throw unauthorizedError(API_KEY_CHALLENGE, found.kind === "missing" ? NOT_AUTHENTICATED : INVALID_CREDENTIALS);
  });
  return asSecurityDependency(dep, API_KEY_CHALLENGE);
}


/**
 * An API key in a request header.
 *
 * @example
 * const apiKey = apiKeyHeader({ name: "X-API-Key" });
 * app.get("/reports", { deps: { key: apiKey } }, ({ deps }) => {
 *   if (!safeCompare(deps.key, process.env.REPORTS_KEY!)) throw apiKey.unauthorized();
 *   return reports();
 * });
 */
export function apiKeyHeader<const O extends ApiKeyOptions>(options: O): SecurityDependency<Credential<O, string>> {
  return apiKey("header", options) as SecurityDependency<Credential<O, string>>;
}

/** An API key in a query parameter (see the module note on logs and history). */
export function apiKeyQuery<const O extends ApiKeyOptions>(options: O): SecurityDependency<Credential<O, string>> {
  return apiKey("query", options) as SecurityDependency<Credential<O, string>>;
}

/** An API key in a cookie. */
export function apiKeyCookie<const O extends ApiKeyOptions>(options: O): SecurityDependency<Credential<O, string>> {
  return apiKey("cookie", options) as SecurityDependency<Credential<O, string>>;
}
