/**
 * WebSocket routes: how they are declared, the context their handler receives, and their
 * compilation into an event-interface app.
 *
 * A WebSocket route runs the same layers as an HTTP route up to the handler: path, query,
 * header and cookie validation, then dependencies, all before the handshake is answered. So a
 * failed validation (422), an auth dependency that raises `HttpException(401)` or a missing room
 * (404) reject the handshake with that HTTP status, and the handler only runs for a connection
 * that may proceed. There is no body and no serializer: the handler talks to the connection.
 *
 * Dependency cleanups run when the handler returns (the connection's end), after-handler ones
 * first; they see the handler's error, except a client disconnect, which is a normal end.
 *
 * @module
 */
import type { App, Receive, Send } from "../adapter/events.js";
import type { WebSocketScope } from "../adapter/websocket-events.js";
import type { ResolvedDeps } from "../di/dependency.js";
import type { StaticOf } from "../validator/schema-types.js";
import type { RouteOptions } from "./route-definition.js";
import type { RouteCompileContext } from "./compile-route.js";
import { allDependencies } from "./compile-route.js";
import { mergeInputs } from "./merge-schemas.js";
import { compileInputChecks, type InputTarget } from "./input-checks.js";
import { RequestContext } from "./request-context.js";
import { WebSocketConnection } from "./websocket-connection.js";
import { RequestValidationError, WebSocketDisconnect } from "../../lib/errors.js";

/** What a WebSocket route may declare: its inputs and dependencies (no body, no response). */
export type WebSocketRouteOptions = Pick<RouteOptions, "params" | "query" | "headers" | "cookies" | "deps" | "dependencies">;

/** What a WebSocket handler receives. */
export interface WebSocketContext<O extends WebSocketRouteOptions = WebSocketRouteOptions> {
  readonly scope: WebSocketScope;
  /** The connection: accept, receive, send, close. */
  readonly ws: WebSocketConnection;
  readonly params: StaticOf<O["params"], Record<string, string>>;
  readonly query: StaticOf<O["query"], Record<string, string | string[]>>;
  readonly headers: StaticOf<O["headers"], Record<string, string>>;
  readonly cookies: StaticOf<O["cookies"], Record<string, string>>;
  readonly deps: ResolvedDeps<O["deps"]>;
}

/** A WebSocket endpoint; the connection ends when it returns (close 1000 if still open). */
export type WebSocketHandler<O extends WebSocketRouteOptions = WebSocketRouteOptions> = (ctx: WebSocketContext<O>) => void | Promise<void>;

/** A WebSocket route as recorded by a router, before compilation. */
export interface WebSocketRouteDeclaration {
  readonly path: string;
  readonly options: WebSocketRouteOptions;
  readonly handler: WebSocketHandler;
}

/** The concrete {@link WebSocketContext}. */
class WebSocketRequestContext extends RequestContext<WebSocketScope> {
  readonly ws: WebSocketConnection;

  constructor(scope: WebSocketScope, receive: Receive, send: Send) {
    super(scope, receive);
    this.ws = new WebSocketConnection(scope, receive, send);
  }
}

/** Compiles a WebSocket route into an app for `websocket` scopes. Throws at startup for invalid schemas or graphs. */
export function compileWebSocketRoute(declaration: WebSocketRouteDeclaration, context: RouteCompileContext): App {
  const { options, handler } = declaration;
  const label = `WEBSOCKET ${declaration.path}`;
  const dependencies = context.resolver.compile(allDependencies(options));
  const inputs = mergeInputs(options, dependencies?.inputs ?? [], label);
  const validateInputs = compileInputChecks(inputs, context.validator);

  return async function websocketRoute(scope, receive, send): Promise<void> {
    const ctx = new WebSocketRequestContext(scope as WebSocketScope, receive, send);
    if (validateInputs !== null) {
      const issues = validateInputs(ctx as unknown as InputTarget);
      if (issues !== undefined) throw new RequestValidationError(issues);
    }
    if (dependencies === null) return handler(ctx as never);
    const resolution = await dependencies.resolve(ctx);
    ctx.deps = resolution.values as Record<string, never>;
    let failed = false;
    let error: unknown;
    try {
      await handler(ctx as never);
    } catch (thrown) {
      failed = true;
      error = thrown;
    }
    const seen = failed && !(error instanceof WebSocketDisconnect) ? error : undefined;
    try {
      await resolution.exits.run("after-handler", seen);
    } finally {
      await resolution.exits.run("after-response", seen);
    }
    if (failed) throw error;
  };
}
