/**
 * `APIRouter`: routes grouped under a prefix, with shared tags and dependencies, that can include
 * other routers (FastAPI's `APIRouter` and `include_router`).
 *
 * A router only records declarations; nothing is compiled until the app that (transitively)
 * includes it builds its pipeline. Including copies the routes present at that moment, as FastAPI
 * does: routes added to a router after it was included are not seen.
 *
 * @module
 */
import type { DependencyToken } from "../layers/di/dependency.js";
import type { Handler, RouteDeclaration, RouteOptions } from "../layers/handler/route-definition.js";
import type { WebSocketHandler, WebSocketRouteDeclaration, WebSocketRouteOptions } from "../layers/handler/websocket-route.js";

/** What a router (or an `include`) applies to every route it holds. */
export interface RouterOptions {
  /** Path prefix, e.g. `"/books"`; must start with `/` and not end with one. */
  prefix?: string;
  /** Tags added before each route's own. */
  tags?: string[];
  /** Dependencies run before each route's own (for their effect: authentication, rate limits). */
  dependencies?: ReadonlyArray<DependencyToken<unknown>>;
}

function checkPrefix(prefix: string): string {
  if (prefix === "") return prefix;
  if (!prefix.startsWith("/") || prefix.endsWith("/")) {
    throw new TypeError(`A router prefix must start with "/" and not end with "/": got "${prefix}"`);
  }
  return prefix;
}

/** Applies a prefix, tags and dependencies to a declaration, returning a new one. */
function scoped(route: RouteDeclaration, options: RouterOptions): RouteDeclaration {
  const prefix = checkPrefix(options.prefix ?? "");
  const tags = [...(options.tags ?? []), ...(route.options.tags ?? [])];
  const dependencies = [...(options.dependencies ?? []), ...(route.options.dependencies ?? [])];
  return {
    methods: route.methods,
    path: prefix + route.path,
    handler: route.handler,
    options: {
      ...route.options,
      ...(tags.length > 0 ? { tags } : {}),
      ...(dependencies.length > 0 ? { dependencies } : {}),
    },
  };
}

/** Applies a prefix and dependencies to a WebSocket declaration (tags do not apply: not in OpenAPI). */
function scopedWebSocket(route: WebSocketRouteDeclaration, options: RouterOptions): WebSocketRouteDeclaration {
  const prefix = checkPrefix(options.prefix ?? "");
  const dependencies = [...(options.dependencies ?? []), ...(route.options.dependencies ?? [])];
  return {
    path: prefix + route.path,
    handler: route.handler,
    options: { ...route.options, ...(dependencies.length > 0 ? { dependencies } : {}) },
  };
}

/** A typed method shortcut: `(path, options, handler)` or `(path, handler)`. */
export interface MethodRegistrar<Self> {
  <const O extends RouteOptions>(path: string, options: O, handler: Handler<O>): Self;
  (path: string, handler: Handler<Record<never, never>>): Self;
}

/**
 * A group of routes.
 *
 * @example
 * const books = new APIRouter({ prefix: "/books", tags: ["books"] });
 * books.get("/{id}", { params: Type.Object({ id: Type.Integer() }) }, ({ params }) => repo.get(params.id));
 * app.include(books);
 */
export class APIRouter {
  /** The declarations recorded so far, prefixes and shared options applied. */
  readonly routes: RouteDeclaration[] = [];
  /** The WebSocket routes recorded so far, prefixes and shared dependencies applied. */
  readonly websocketRoutes: WebSocketRouteDeclaration[] = [];
  private readonly shared: RouterOptions;

  constructor(options: RouterOptions = {}) {
    checkPrefix(options.prefix ?? "");
    this.shared = options;
  }

  /** Declares a route for several methods at once. */
  route<const O extends RouteOptions>(methods: readonly string[], path: string, options: O, handler: Handler<O>): this {
    // "" is allowed so that a router's prefix can itself be a route (`/books`), as in FastAPI.
    if (!path.startsWith("/") && !(path === "" && (this.shared.prefix ?? "") !== "")) {
      throw new TypeError(`A route path must start with "/": got "${path}"`);
    }
    const declaration: RouteDeclaration = {
      methods: methods.map((m) => m.toUpperCase()),
      path,
      options,
      handler: handler as unknown as Handler<RouteOptions>,
    };
    this.routes.push(scoped(declaration, this.shared));
    this.routesChanged();
    return this;
  }

  /** Called after routes were added; an `App` rebuilds its pipeline and its OpenAPI document. */
  protected routesChanged(): void {}

  private shortcut(method: string): MethodRegistrar<this> {
    return ((path: string, optionsOrHandler: RouteOptions | Handler<RouteOptions>, maybeHandler?: Handler<RouteOptions>) =>
      typeof optionsOrHandler === "function"
        ? this.route([method], path, {}, optionsOrHandler)
        : this.route([method], path, optionsOrHandler, maybeHandler!)) as MethodRegistrar<this>;
  }

  /** Declares a GET route (HEAD is answered from it). */
  readonly get: MethodRegistrar<this> = this.shortcut("GET");
  /** Declares a POST route. */
  readonly post: MethodRegistrar<this> = this.shortcut("POST");
  /** Declares a PUT route. */
  readonly put: MethodRegistrar<this> = this.shortcut("PUT");
  /** Declares a PATCH route. */
  readonly patch: MethodRegistrar<this> = this.shortcut("PATCH");
  /** Declares a DELETE route. */
  readonly delete: MethodRegistrar<this> = this.shortcut("DELETE");
  /** Declares an explicit OPTIONS route (otherwise OPTIONS is answered with `Allow`). */
  readonly options: MethodRegistrar<this> = this.shortcut("OPTIONS");
  /** Declares an explicit HEAD route (otherwise HEAD is answered from GET). */
  readonly head: MethodRegistrar<this> = this.shortcut("HEAD");

  /**
   * Declares a WebSocket route: `(path, options, handler)` or `(path, handler)`. Inputs and
   * dependencies are checked before the handshake is answered (a failure rejects it with its
   * HTTP status); the handler then accepts and talks through `ctx.ws`.
   *
   * @example
   * app.websocket("/ws/rooms/{room}", { query: Type.Object({ name: Type.String() }) }, async ({ ws, params, query }) => {
   *   await ws.accept();
   *   for await (const message of ws) await ws.send(`${query.name}@${params.room}: ${message}`);
   * });
   */
  websocket<const O extends WebSocketRouteOptions>(path: string, options: O, handler: WebSocketHandler<O>): this;
  websocket(path: string, handler: WebSocketHandler<Record<never, never>>): this;
  websocket(path: string, optionsOrHandler: WebSocketRouteOptions | WebSocketHandler, maybeHandler?: WebSocketHandler): this {
    const [options, handler] = typeof optionsOrHandler === "function" ? [{}, optionsOrHandler] : [optionsOrHandler, maybeHandler!];
    if (!path.startsWith("/") && !(path === "" && (this.shared.prefix ?? "") !== "")) {
      throw new TypeError(`A route path must start with "/": got "${path}"`);
    }
    this.websocketRoutes.push(scopedWebSocket({ path, options, handler: handler as WebSocketHandler }, this.shared));
    this.routesChanged();
    return this;
  }

  /** Copies another router's routes into this one, under `options.prefix`, tags and dependencies. */
  include(router: APIRouter, options: RouterOptions = {}): this {
    for (const route of router.routes) this.routes.push(scoped(scoped(route, options), this.shared));
    for (const route of router.websocketRoutes) this.websocketRoutes.push(scopedWebSocket(scopedWebSocket(route, options), this.shared));
    this.routesChanged();
    return this;
  }
}
