/**
 * Layer 3: every plain-text request is sent to its HTTPS address (Starlette's
 * `HTTPSRedirectMiddleware`): `http` → `https`, `ws` → `wss`, with `307 Temporary Redirect` for
 * every method (the client repeats the same method and body, RFC 9110 §15.4.8; a 301/302 would let
 * it turn a POST into a GET). The path (as it arrived on the wire) and the query are kept; a port
 * of 80 or 443 is dropped, since the new scheme's default port is what the client should use, any
 * other port is kept (as Starlette does: a development server on :8000 serves both).
 *
 * The host comes from the `Host` header, or the server's own address when there is none. A Host
 * that is not a host (`evil.com/x`, `a@b`, several Host lines) is answered `400 Invalid host
 * header` rather than copied into a `Location`. Put {@link trustedHost} outside this layer to
 * restrict where clients can be sent at all.
 *
 * Behind a TLS-terminating proxy the scheme is `http` on every request: wrap the app in
 * `proxyHeaders` first, so `X-Forwarded-Proto: https` marks the requests that were secure.
 *
 * Deliberately left out: HSTS (`Strict-Transport-Security`, a response header for the HTTPS side,
 * set by the proxy or the app) and choosing another HTTPS port.
 *
 * @module
 */
import { isIP } from "node:net";
import type { App, ConnectionScope } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";
import { formatHost, hostHeaderOf, parseHost, type ParsedHost } from "./host-header.js";
import { sendPlainText, sendRedirect } from "./early-response.js";
import { INVALID_HOST_TEXT } from "./trusted-host.js";

/**
 * Creates the HTTPS redirect layer. Requests already on `https`/`wss` (and lifespan events) pass
 * through untouched.
 *
 * @example
 * app.wrap(httpsRedirect());
 */
export function httpsRedirect(): Middleware {
  return (next: App): App =>
    function httpsRedirectLayer(scope, receive, send) {
      if (scope.type === "lifespan" || scope.scheme === "https" || scope.scheme === "wss") return next(scope, receive, send);
      const location = secureLocation(scope);
      if (location === undefined) return sendPlainText(scope, send, 400, INVALID_HOST_TEXT);
      return sendRedirect(scope, send, location);
    };
}

/** The `https:`/`wss:` URL of a plain-text request, or undefined when its Host is not a host. */
export function secureLocation(scope: ConnectionScope): string | undefined {
  const host = requestHost(scope);
  if (host === undefined) return undefined;
  const port = host.port === "80" || host.port === "443" ? "" : host.port;
  const query = scope.queryString === "" ? "" : `?${scope.queryString}`;
  const scheme = scope.type === "websocket" ? "wss" : "https";
  return `${scheme}://${formatHost({ ...host, port })}${scope.rawPath}${query}`;
}

/** The Host header, parsed; without one, the server's own address (ASGI's `server`). */
function requestHost(scope: ConnectionScope): ParsedHost | undefined {
  const hostCount = scope.headers.reduce((n, [name]) => (name === "host" ? n + 1 : n), 0);
  if (hostCount > 0) {
    const value = hostHeaderOf(scope.headers);
    return value === undefined ? undefined : parseHost(value);
  }
  if (scope.server === null) return undefined;
  const [address, port] = scope.server;
  return { hostname: address, ipv6: isIP(address) === 6, port: String(port) };
}
