/**
 * Layer 3: Cross-Origin Resource Sharing (Starlette's `CORSMiddleware`, the Fetch standard's
 * "CORS protocol" section).
 *
 * A browser lets a page of one origin read a response from another only when the response says so
 * (`access-control-allow-origin`), and before a request that a plain HTML form could not have sent
 * (a `PUT`, a JSON `content-type`, an `authorization` header) it asks first with a preflight:
 * `OPTIONS` with `Origin` and `Access-Control-Request-Method`. This layer answers both:
 *
 * - **no `Origin`** (same-origin, curl, server to server): passed through untouched; the cost is one
 *   scan of the header list. (So those responses carry no `vary: origin` either: a shared cache in
 *   front that stores one and serves it to a cross-origin request makes that request fail, never
 *   leak; Starlette does the same.)
 * - **a preflight** is answered here, the app never sees it: `200 OK` with the allowed origin,
 *   methods, headers, max-age (and credentials) when the origin, the requested method and every
 *   requested header are allowed; otherwise `400` with a plain-text reason
 *   (`Disallowed CORS origin, method, headers`) and **no** CORS header at all, so the browser
 *   refuses the real request whatever it is. (Starlette puts its CORS headers on the 400 too.)
 * - **any other request with `Origin`** goes to the app; its response start gets
 *   `access-control-allow-origin` (`*` when every origin is allowed without credentials, otherwise
 *   the request's origin itself), `access-control-allow-credentials: true` and
 *   `access-control-expose-headers` when configured, replacing any the app set. A disallowed origin
 *   gets none of them (the app still runs: CORS protects the reader, not the server; a form post
 *   from anywhere arrives all the same, which is what CSRF tokens and SameSite cookies are for).
 *   Whenever the answer depends on the origin (an explicit list or a regex), `vary: origin` is
 *   added, allowed origin or not, so a cache never serves one origin's answer to another.
 *
 * Matching: origins compare exactly (browsers serialize them lower-case, without a path);
 * `allowOriginRegex` must match the **whole** origin (it is anchored: `https://.*\.example\.com`
 * does not match `https://evil.example.com.attacker.net`); header names compare case-insensitively;
 * methods are case-sensitive (RFC 9110 §9.1; browsers upper-case the standard ones, and a `patch`
 * the page wrote in lower case arrives as such and must be allowed as such, or with `*`).
 *
 * Credentials and `*` (the unsafe combination): the Fetch standard forbids
 * `access-control-allow-origin: *` on a credentialed response, and Starlette "solves" it by
 * reflecting whatever origin asks, which lets every site on the web make requests with the user's
 * cookies and read the answers. laminar refuses it instead: `allowOrigins: ["*"]` together with
 * `allowCredentials: true` throws at construction; list the origins, or use a regex for a family of
 * them. (So, unlike Starlette, a request with a `Cookie` is not answered with its own origin under
 * `*`: without `allowCredentials` the browser would refuse the response anyway.) The literal
 * `null` origin (sandboxed iframes, `file:` pages, redirects) cannot be listed for the same reason:
 * any page can put itself in a sandbox; with `*` it gets `*` like every other origin.
 *
 * WebSockets: browsers apply no CORS to them (a page may open a socket to any host; the handshake
 * carries `Origin` but nothing checks it), so by default WebSocket scopes pass through untouched, as
 * in Starlette. A WebSocket that uses cookies is open to cross-site WebSocket hijacking unless the
 * server checks `Origin`; `checkWebSocketOrigin: true` makes this layer do it with the same rules:
 * a handshake whose `Origin` is present and not allowed is rejected (403) before the app runs.
 * Clients that are not browsers send no `Origin` (or any they like) and are let through: this is a
 * browser-protection check, not authentication.
 *
 * Deliberately left out: the Private Network Access headers (`Access-Control-Request-Private-Network`)
 * and per-route policies (mount a sub-app with its own layer).
 *
 * @module
 */
import type { App, HeaderList, HttpResponseStartEvent, Receive, Scope, Send, SendEvent } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";
import { addVary } from "./vary.js";

/** Options of {@link cors}; Starlette's `CORSMiddleware` arguments, in camelCase. */
export interface CorsOptions {
  /**
   * Origins allowed to read responses, exactly as a browser sends them (`https://app.example.com`,
   * `http://localhost:5173`: scheme, host, port if not the default, no path or trailing slash), or
   * `["*"]` for any origin. Default none.
   */
  allowOrigins?: readonly string[];
  /**
   * A regular expression an origin must match in full (it is anchored for you), besides the list:
   * `"https://.*\\.example\\.com"`. A `RegExp`'s flags are kept, except `g` and `y` (which would make
   * matching stateful).
   */
  allowOriginRegex?: string | RegExp;
  /** Methods a preflight may ask for; `["*"]` for any. Default `["GET"]`. */
  allowMethods?: readonly string[];
  /**
   * Request headers a preflight may ask for, besides the CORS-safelisted `accept`,
   * `accept-language`, `content-language` and `content-type`; `["*"]` for any. Case-insensitive.
   */
  allowHeaders?: readonly string[];
  /** Whether cross-origin requests may carry cookies and HTTP auth. Default false. */
  allowCredentials?: boolean;
  /** Response headers the page's script may read, besides the safelisted ones. */
  exposeHeaders?: readonly string[];
  /** How long (seconds) a browser may cache a preflight answer. Default 600. */
  maxAge?: number;
  /** Reject (403) WebSocket handshakes whose `Origin` is present and not allowed. Default false. */
  checkWebSocketOrigin?: boolean;
}

/** The methods `*` stands for in the preflight answer (Starlette's `ALL_METHODS`). */
const ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/** Request headers a page may always send (Fetch "CORS-safelisted request-header" names). */
const SAFELISTED_HEADERS = ["accept", "accept-language", "content-language", "content-type"];

/** RFC 9110 §5.6.2 `token`: what a header name or a method may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An origin as a browser serializes it: scheme, host, optional port; nothing else. */
const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\s@]+$/;

const OK_BODY = "OK";

/** The settings every request through one layer shares, computed once. */
interface CorsPolicy {
  anyOrigin: boolean;
  origins: ReadonlySet<string>;
  regex: RegExp | undefined;
  anyMethod: boolean;
  methods: ReadonlySet<string>;
  anyHeader: boolean;
  headers: ReadonlySet<string>;
  credentials: boolean;
  /** `access-control-allow-origin` is the request's origin (not `*`), so the answer varies on it. */
  explicitOrigin: boolean;
  /** Headers every allowed simple response gets, besides the origin. */
  simpleHeaders: HeaderList;
  /** `access-control-allow-methods` of a preflight answer. */
  methodsValue: string;
  /** Headers every allowed preflight answer gets after the methods (max-age, headers, credentials). */
  preflightHeaders: HeaderList;
  checkWebSocketOrigin: boolean;
}

/** Anchors a user regex: `^(?:…)$`, so that a prefix or a suffix match is no match. */
function anchoredRegex(source: string | RegExp): RegExp {
  if (typeof source === "string") return new RegExp(`^(?:${source})$`);
  return new RegExp(`^(?:${source.source})$`, source.flags.replace(/[gy]/g, ""));
}

function buildPolicy(options: CorsOptions): CorsPolicy {
  const allowOrigins = options.allowOrigins ?? [];
  const anyOrigin = allowOrigins.includes("*");
  for (const origin of allowOrigins) {
    if (origin === "*") continue;
    if (origin === "null") throw new TypeError('cors: the "null" origin cannot be allowed (any page can send it from a sandboxed iframe); see the cors module docs');
    if (!ORIGIN.test(origin) || origin.endsWith(":")) {
      throw new TypeError(`cors: invalid allowOrigins entry ${JSON.stringify(origin)}: expected scheme://host[:port] without a path or trailing slash, or *`);
    }
  }
  const credentials = options.allowCredentials === true;
  if (anyOrigin && credentials) {
    throw new TypeError('cors: allowOrigins ["*"] with allowCredentials would let every site read responses with the user\'s cookies; list the origins (or use allowOriginRegex)');
  }
  const allowMethods = options.allowMethods ?? ["GET"];
  const anyMethod = allowMethods.includes("*");
  const methods = anyMethod ? ALL_METHODS : allowMethods.map((method) => method.toUpperCase());
  for (const method of methods) if (!TOKEN.test(method)) throw new TypeError(`cors: invalid allowMethods entry ${JSON.stringify(method)}`);
  const allowHeaders = options.allowHeaders ?? [];
  const anyHeader = allowHeaders.includes("*");
  const headers = new Set(SAFELISTED_HEADERS);
  for (const header of allowHeaders) {
    if (header === "*") continue;
    if (!TOKEN.test(header)) throw new TypeError(`cors: invalid allowHeaders entry ${JSON.stringify(header)}`);
    headers.add(header.toLowerCase());
  }
  const exposeHeaders = options.exposeHeaders ?? [];
  for (const header of exposeHeaders) if (!TOKEN.test(header)) throw new TypeError(`cors: invalid exposeHeaders entry ${JSON.stringify(header)}`);
  const maxAge = options.maxAge ?? 600;
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new RangeError(`cors: maxAge must be a non-negative integer, got ${String(maxAge)}`);

  const simpleHeaders: HeaderList = [];
  if (credentials) simpleHeaders.push(["access-control-allow-credentials", "true"]);
  if (exposeHeaders.length > 0) simpleHeaders.push(["access-control-expose-headers", exposeHeaders.join(", ")]);
  const preflightHeaders: HeaderList = [["access-control-max-age", String(maxAge)]];
  if (!anyHeader) preflightHeaders.push(["access-control-allow-headers", [...headers].sort().join(", ")]);
  if (credentials) preflightHeaders.push(["access-control-allow-credentials", "true"]);
  return {
    anyOrigin,
    origins: new Set(allowOrigins),
    regex: options.allowOriginRegex === undefined ? undefined : anchoredRegex(options.allowOriginRegex),
    anyMethod,
    methods: new Set(methods),
    anyHeader,
    headers,
    credentials,
    explicitOrigin: !anyOrigin,
    simpleHeaders,
    methodsValue: methods.join(", "),
    preflightHeaders,
    checkWebSocketOrigin: options.checkWebSocketOrigin === true,
  };
}

/** Whether `origin` may read responses under `policy`. */
function isAllowedOrigin(policy: CorsPolicy, origin: string): boolean {
  if (policy.anyOrigin) return true;
  if (policy.origins.has(origin)) return true;
  return policy.regex !== undefined && policy.regex.test(origin);
}

/** The value of the first `name` header (lower-case), or undefined. */
function headerValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i++) {
    const entry = headers[i]!;
    if (entry[0] === name) return entry[1];
  }
  return undefined;
}

/** The names in `Access-Control-Request-Headers` (lower-cased, empty elements skipped), or null when one is not a token. */
function requestedHeaders(value: string): string[] | null {
  const names: string[] = [];
  for (const raw of value.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (!TOKEN.test(name)) return null;
    names.push(name.toLowerCase());
  }
  return names;
}

/** Answers a preflight (see the module comment). */
function preflight(policy: CorsPolicy, origin: string, headers: HeaderList, send: Send): Promise<void> {
  const method = headerValue(headers, "access-control-request-method")!;
  const requestHeaders = headerValue(headers, "access-control-request-headers");
  const failures: string[] = [];
  if (!isAllowedOrigin(policy, origin)) failures.push("origin");
  if (!(policy.anyMethod ? TOKEN.test(method) : policy.methods.has(method))) failures.push("method");
  const names = requestHeaders === undefined ? [] : requestedHeaders(requestHeaders);
  if (names === null || (!policy.anyHeader && names.some((name) => !policy.headers.has(name)))) failures.push("headers");
  if (failures.length > 0) return plainText(send, 400, `Disallowed CORS ${failures.join(", ")}`, []);
  const answer: HeaderList = [["access-control-allow-origin", policy.explicitOrigin ? origin : "*"]];
  if (policy.explicitOrigin) answer.push(["vary", "origin"]);
  // `*` allows any method and header: name the ones asked for rather than answer a literal `*`
  // (which a credentialed preflight takes as a method or header called "*", Fetch §3.2.5).
  const methods = policy.anyMethod && !policy.methods.has(method) ? `${method}, ${policy.methodsValue}` : policy.methodsValue;
  answer.push(["access-control-allow-methods", methods], ...policy.preflightHeaders);
  if (policy.anyHeader && names !== null && names.length > 0) answer.push(["access-control-allow-headers", names.join(", ")]);
  return plainText(send, 200, OK_BODY, answer);
}

async function plainText(send: Send, status: number, body: string, headers: HeaderList): Promise<void> {
  headers.push(["content-type", "text/plain; charset=utf-8"], ["content-length", String(Buffer.byteLength(body))]);
  await send({ type: "http.response.start", status, headers });
  await send({ type: "http.response.body", body, moreBody: false });
}

/** The names this layer sets on a simple response: the app's own values for them are dropped. */
const SIMPLE_NAMES = new Set(["access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers"]);

/** The response start of a request with `Origin`, with the CORS headers `policy` gives it. */
function withCorsHeaders(policy: CorsPolicy, event: HttpResponseStartEvent, origin: string): HttpResponseStartEvent {
  const allowed = isAllowedOrigin(policy, origin);
  if (!allowed && !policy.explicitOrigin) return event;
  // A copy: the app's header list may be a constant shared by every response.
  const headers: HeaderList = allowed ? event.headers.filter(([name]) => !SIMPLE_NAMES.has(name)) : event.headers.slice();
  if (allowed) {
    headers.push(["access-control-allow-origin", policy.explicitOrigin ? origin : "*"], ...policy.simpleHeaders);
  }
  if (policy.explicitOrigin) addVary(headers, "origin");
  return { type: "http.response.start", status: event.status, headers };
}

/** Rejects a WebSocket handshake from a disallowed origin (403, before the app runs). */
async function rejectWebSocket(send: Send): Promise<void> {
  await send({ type: "websocket.close", code: 1008, reason: "" });
}

/**
 * Creates the CORS layer (see the module comment). Throws a `TypeError` at construction for an
 * invalid or unsafe configuration: `*` origins with credentials, the `null` origin, an origin with
 * a path or trailing slash, a method or header name that is not a token; a `RangeError` for a
 * `maxAge` that is not a non-negative integer. (An invalid `allowOriginRegex` throws its `SyntaxError`.)
 *
 * @example
 * app.use(cors({
 *   allowOrigins: ["https://app.example.com"],
 *   allowMethods: ["GET", "POST", "DELETE"],
 *   allowHeaders: ["authorization", "content-type"],
 *   allowCredentials: true,
 * }));
 */
export function cors(options: CorsOptions = {}): Middleware {
  const policy = buildPolicy(options);
  return (next: App): App =>
    function corsLayer(scope: Scope, receive: Receive, send: Send): Promise<void> {
      if (scope.type === "lifespan") return next(scope, receive, send);
      const origin = headerValue(scope.headers, "origin");
      if (origin === undefined) return next(scope, receive, send);
      if (scope.type === "websocket") {
        if (policy.checkWebSocketOrigin && !isAllowedOrigin(policy, origin)) return rejectWebSocket(send);
        return next(scope, receive, send);
      }
      if (scope.method === "OPTIONS" && headerValue(scope.headers, "access-control-request-method") !== undefined) {
        return preflight(policy, origin, scope.headers, send);
      }
      return next(scope, receive, corsSend(policy, origin, send));
    };
}

/** The `send` a simple request's app gets: CORS headers added to the response start. */
function corsSend(policy: CorsPolicy, origin: string, send: Send): Send {
  return (event: SendEvent) => send(event.type === "http.response.start" ? withCorsHeaders(policy, event, origin) : event);
}
