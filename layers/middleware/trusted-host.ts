/**
 * Layer 3: only requests for this service's own host names get through (Starlette's
 * `TrustedHostMiddleware`), the guard against Host header attacks: a forged `Host` that ends up in
 * password-reset links, absolute redirects or a shared cache's key.
 *
 * Each HTTP request and WebSocket handshake must carry exactly one `Host` header naming an allowed
 * host; otherwise it is answered `400 Invalid host header` (plain text; on a WebSocket, as the
 * handshake's denial response) and the app never runs. Matching:
 *
 * - the port is ignored, case too (`Example.COM:8443` is `example.com`), and one trailing dot;
 * - `example.com` matches that host only; `*.example.com` matches any subdomain (`a.example.com`,
 *   `a.b.example.com`) but not `example.com` itself; `*` alone allows any host (the middleware is
 *   then the next app itself: no work per request);
 * - IPv6 literals are written `[::1]` in the header and `::1` or `[::1]` in the list;
 * - the Host must be a host (see `host-header.ts`): `evil.com#.example.com`, `a@example.com`,
 *   two ports, or several Host lines (RFC 9112 §3.2) are 400 even against a wildcard; a request
 *   without Host (HTTP/1.0) is 400 too, since nothing says it is for us.
 *
 * `wwwRedirect` (default true, as Starlette): when the host is not allowed but `www.<host>` is
 * exactly in the list, the client is redirected (307) there instead, keeping the scheme, port,
 * path and query: `example.com/a?b` → `http://www.example.com/a?b`.
 *
 * Deliberately left out: `X-Forwarded-Host` (nginx sets `Host` itself), and wildcards anywhere but
 * a leading `*.` (a typo should fail at startup, not trust a pattern nobody meant).
 *
 * @module
 */
import type { App } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";
import { formatHost, hostHeaderOf, hostnameOf, parseHost } from "./host-header.js";
import { sendPlainText, sendRedirect } from "./early-response.js";

/** Options of {@link trustedHost}. */
export interface TrustedHostOptions {
  /** Allowed hosts: names, `*.suffix` wildcards, IP addresses, or `*` for any. Must not be empty. */
  allowedHosts: readonly string[];
  /** Redirect `example.com` to `www.example.com` when only the latter is allowed. Default true. */
  wwwRedirect?: boolean;
}

/** The body of the 400. */
export const INVALID_HOST_TEXT = "Invalid host header";

/**
 * Creates the trusted-host layer. Throws a `TypeError` naming the entry for an empty list or an
 * entry that is not a host, an IP address, `*` or `*.` followed by a host (`*example.com`,
 * `a.*.com`, `example.com:80`, `**`).
 *
 * @example
 * app.use(trustedHost({ allowedHosts: ["example.com", "*.example.com"] }));
 */
export function trustedHost(options: TrustedHostOptions): Middleware {
  const { allowedHosts, wwwRedirect = true } = options;
  if (allowedHosts.length === 0) throw new TypeError("trustedHost: allowedHosts must name at least one host (or `*`)");
  const exact = new Set<string>();
  const suffixes: string[] = [];
  let any = false;
  for (const entry of allowedHosts) {
    const pattern = parsePattern(entry);
    if (pattern === "*") any = true;
    else if (pattern.startsWith("*.")) suffixes.push(pattern.slice(1));
    else exact.add(pattern);
  }
  if (any) return (next: App): App => next;

  const allowed = (hostname: string): boolean => {
    if (exact.has(hostname)) return true;
    for (const suffix of suffixes) if (hostname.length > suffix.length && hostname.endsWith(suffix)) return true;
    return false;
  };

  return (next: App): App =>
    function trustedHostLayer(scope, receive, send) {
      if (scope.type === "lifespan") return next(scope, receive, send);
      const value = hostHeaderOf(scope.headers);
      const host = value === undefined ? undefined : parseHost(value);
      if (host !== undefined) {
        if (allowed(host.hostname)) return next(scope, receive, send);
        if (wwwRedirect && !host.ipv6 && exact.has(`www.${host.hostname}`)) {
          const query = scope.queryString === "" ? "" : `?${scope.queryString}`;
          const target = formatHost({ ...host, hostname: `www.${host.hostname}` });
          return sendRedirect(scope, send, `${scope.scheme}://${target}${scope.rawPath}${query}`);
        }
      }
      return sendPlainText(scope, send, 400, INVALID_HOST_TEXT);
    };
}

/** An allowed-hosts entry, normalized: `*`, `*.suffix`, or a host name/address; throws when invalid. */
function parsePattern(entry: string): string {
  if (entry === "*") return "*";
  const invalid = (): TypeError =>
    new TypeError(`trustedHost: invalid allowedHosts entry ${JSON.stringify(entry)} (expected a host, an IP address, "*" or "*." followed by a host)`);
  const wildcard = entry.startsWith("*.");
  const rest = wildcard ? entry.slice(2) : entry;
  if (rest.indexOf("*") !== -1) throw invalid();
  // An IPv6 address, bracketed or not (no wildcard: a subdomain of an address means nothing).
  if (!wildcard && rest.indexOf(":") !== -1) {
    const host = parseHost(rest.startsWith("[") ? rest : `[${rest}]`);
    if (host === undefined || !host.ipv6 || host.port !== "") throw invalid();
    return host.hostname;
  }
  const hostname = hostnameOf(rest);
  if (hostname === undefined) throw invalid();
  return wildcard ? `*.${hostname}` : hostname;
}
