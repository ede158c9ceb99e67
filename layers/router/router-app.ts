/**
 * `RouterApp`: dispatches requests to event-interface apps through any {@link Router}: 404, 405 with
 * `Allow`, HEAD answered by GET routes, automatic OPTIONS, and mounted sub-apps.
 *
 * @module
 */
import type { App, ConnectionScope, HttpResponseBodyEvent, HttpScope, Receive, Scope, Send, SendEvent } from "../adapter/events.js";
import type { WebSocketScope } from "../adapter/websocket-events.js";
import { HttpException, RouteDefinitionError } from "../../lib/errors.js";
import { FindMyWayRouter } from "./find-my-way-router.js";
import type { Router } from "./router.js";

/** A mounted sub-app and the prefix it answers under (`""` for a mount at `/`). */
interface Mount {
  readonly prefix: string;
  readonly app: App;
}

const RESOLVED: Promise<void> = Promise.resolve();
// Shared, frozen: the HEAD wrapper and the OPTIONS answer allocate no event objects.
const EMPTY_BODY = new Uint8Array(0);
const EMPTY_LAST: HttpResponseBodyEvent = Object.freeze({ type: "http.response.body", body: EMPTY_BODY, moreBody: false });
const EMPTY_MORE: HttpResponseBodyEvent = Object.freeze({ type: "http.response.body", body: EMPTY_BODY, moreBody: true });

/**
 * Turns a `Router<App>` into one App.
 *
 * Dispatch order for an HTTP request (`scope.path` is the decoded path, relative to `rootPath`):
 * 1. a route registered for the method (HEAD: or, failing that, a GET route) runs, with
 *    `scope.pathParams` set on the caller's scope (the router's job: it is the request's scope);
 * 2. otherwise the mount with the longest prefix that matches runs (declaration order does not
 *    matter; a route path and a mount prefix can overlap and the route wins for its methods;
 *    for other methods the mount gets the request, as in Starlette, where a mount's full match
 *    beats a route's partial, method-only, match);
 * 3. otherwise a path known under other methods answers OPTIONS itself (204 + `Allow`) or rejects
 *    with `HttpException(405)` carrying `Allow`; an unknown path rejects with `HttpException(404)`.
 *    The exception layer renders both (`{"detail":"Not Found"}`).
 *
 * `Allow` lists the registered methods, plus HEAD when GET is there, plus OPTIONS (always answered),
 * sorted: RFC 9110 §10.2.1 (Allow), §9.3.2 (HEAD), §9.3.7 (OPTIONS).
 *
 * Dispatch is synchronous up to the matched app's call, whose promise is returned as is: no extra
 * async frame per request. 404/405 are returned as rejected promises, never thrown synchronously.
 *
 * A WebSocket handshake (`websocket` scope) is dispatched the same way through a second matcher
 * holding the WebSocket routes, then the mounts; with no match it rejects with
 * `HttpException(404)`, which the error layer sends as the handshake's HTTP answer.
 *
 * Lifespan scopes are ignored (the promise resolves without sending): startup/shutdown belong to
 * the application object, and mounted sub-apps do not get lifespan events (Starlette's Router
 * does not forward them either).
 *
 * Deliberately left out: path parameters in mount prefixes, trailing-slash redirects
 * (Starlette's `redirect_slashes`), host routing.
 *
 * @example
 * const router = new RouterApp();
 * router.route(["GET"], "/books/{id}", getBook);
 * router.mount("/static", staticFiles);
 * server.listen(router.handle, { port: 8000 });
 */
export class RouterApp {
  /** The App: bound once, pass it anywhere an App is expected. */
  readonly handle: App;
  readonly #router: Router<App>;
  readonly #websocketRouter: Router<App>;
  /** Longest prefix first, so the first match is the most specific. */
  readonly #mounts: Mount[] = [];
  /** `Allow` header values by the router's `allowed` list (few distinct method sets per app). */
  readonly #allowCache = new Map<string, string>();

  /**
   * @param router the matcher for HTTP routes; a fresh {@link FindMyWayRouter} by default
   * @param websocketRouter the matcher for WebSocket routes (a separate table: a path can have both)
   */
  constructor(router: Router<App> = new FindMyWayRouter<App>(), websocketRouter: Router<App> = new FindMyWayRouter<App>()) {
    this.#router = router;
    this.#websocketRouter = websocketRouter;
    this.handle = (scope, receive, send) => this.#dispatch(scope, receive, send);
  }

  /**
   * Registers `app` for each of `methods` (upper-cased) at `path` (router syntax: `{name}`,
   * `{name:path}`). A GET route also answers HEAD, unless HEAD is registered for the path too
   * (before or after). Throws RouteDefinitionError for an empty method list, a duplicate or bad syntax.
   */
  route(methods: readonly string[], path: string, app: App): void {
    if (methods.length === 0) {
      throw new RouteDefinitionError(JSON.stringify(path), "no methods given");
    }
    for (const method of methods) this.#router.add(method.toUpperCase(), path, app);
  }

  /** Registers `app` for WebSocket handshakes at `path` (same syntax as {@link route}). */
  websocket(path: string, app: App): void {
    this.#websocketRouter.add("GET", path, app);
  }

  /**
   * Mounts `app` under `prefix`: requests to `prefix` and `prefix/...` reach it with `scope.path`
   * the rest (`"/"` at least, as Starlette's `Mount`) and `scope.rootPath` extended by `prefix`;
   * `rawPath` is unchanged. The sub-app gets a shallow copy of the scope, never the caller's.
   * `/prefixother` does not match. A trailing slash on `prefix` is ignored; `"/"` mounts at the root
   * (every request that no route answers). Throws RouteDefinitionError for a prefix not starting
   * with `/`, containing parameters or wildcards, or already mounted.
   */
  mount(prefix: string, app: App): void {
    const normalized = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
    if (!prefix.startsWith("/")) {
      throw new RouteDefinitionError(JSON.stringify(prefix), "a mount prefix must start with '/'");
    }
    if (/[{}*?#]/.test(normalized) || normalized.includes("//")) {
      throw new RouteDefinitionError(JSON.stringify(prefix), "a mount prefix is a plain path: no parameters, wildcards, '?', '#' or '//'");
    }
    if (this.#mounts.some((m) => m.prefix === normalized)) {
      throw new RouteDefinitionError(JSON.stringify(prefix), "this prefix is already mounted");
    }
    this.#mounts.push({ prefix: normalized, app });
    this.#mounts.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  #dispatch(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type !== "http") {
      return scope.type === "websocket" ? this.#dispatchWebSocket(scope, receive, send) : RESOLVED;
    }
    const method = scope.method;
    const path = scope.path;
    const result = this.#router.lookup(method, path);
    if (result.kind === "found") {
      scope.pathParams = result.params;
      return result.value(scope, receive, send);
    }
    if (method === "HEAD" && result.kind === "method-not-allowed" && result.allowed.includes("GET")) {
      const get = this.#router.lookup("GET", path);
      if (get.kind === "found") {
        scope.pathParams = get.params;
        return get.value(scope, receive, headSend(send));
      }
    }
    if (this.#mounts.length !== 0) {
      const mounted = this.#callMount(scope, receive, send);
      if (mounted !== null) return mounted;
    }
    if (result.kind === "not-found") return Promise.reject(new HttpException(404));
    const allow = this.#allowHeader(result.allowed);
    if (method === "OPTIONS") return answerOptions(send, allow);
    return Promise.reject(new HttpException(405, undefined, [["allow", allow]]));
  }

  #dispatchWebSocket(scope: WebSocketScope, receive: Receive, send: Send): Promise<void> {
    const result = this.#websocketRouter.lookup("GET", scope.path);
    if (result.kind === "found") {
      scope.pathParams = result.params;
      return result.value(scope, receive, send);
    }
    if (this.#mounts.length !== 0) {
      const mounted = this.#callMount(scope, receive, send);
      if (mounted !== null) return mounted;
    }
    return Promise.reject(new HttpException(404));
  }

  /** Runs the mount matching `scope.path`, or returns null when none does. */
  #callMount(scope: ConnectionScope, receive: Receive, send: Send): Promise<void> | null {
    const path = scope.path;
    for (const { prefix, app } of this.#mounts) {
      const length = prefix.length;
      if (!path.startsWith(prefix)) continue;
      if (path.length === length) {
        return app({ ...scope, client: scope.client, path: "/", rootPath: scope.rootPath + prefix }, receive, send);
      }
      if (path.charCodeAt(length) === 47 /* / */) {
        return app({ ...scope, client: scope.client, path: path.slice(length), rootPath: scope.rootPath + prefix }, receive, send);
      }
    }
    return null;
  }

  #allowHeader(allowed: readonly string[]): string {
    const key = allowed.join(",");
    let header = this.#allowCache.get(key);
    if (header === undefined) {
      const methods = new Set(allowed);
      if (methods.has("GET")) methods.add("HEAD");
      methods.add("OPTIONS");
      header = [...methods].sort().join(", ");
      this.#allowCache.set(key, header);
    }
    return header;
  }
}

/**
 * A `send` for running a GET app on a HEAD request: the response start goes through untouched
 * (Content-Length included: RFC 9110 §9.3.2, HEAD gets the headers GET would), every body event is
 * replaced by an empty one with the same `moreBody`, so the response still completes.
 */
function headSend(send: Send): Send {
  return (event: SendEvent) =>
    event.type === "http.response.body" ? send(event.moreBody === true ? EMPTY_MORE : EMPTY_LAST) : send(event);
}

/** The automatic OPTIONS answer: 204 with `Allow`, no body (and so no Content-Length, RFC 9110 §8.6). */
async function answerOptions(send: Send, allow: string): Promise<void> {
  await send({ type: "http.response.start", status: 204, headers: [["allow", allow]] });
  await send(EMPTY_LAST);
}
