/**
 * The one place where the order of the layers is written down.
 *
 *   1 connection server  ─ parses HTTP, owns sockets            (layers/server, outside this file)
 *   2 adapter            ─ request → scope/receive/send         (layers/adapter, outside this file)
 *   3 middleware         ─ wrappers (`App.wrap`: proxy headers), outermost, in the order added
 *                          → error layer
 *                          → user middleware, in the order added
 *                          → exception layer (innermost)
 *   4 router             ─ method + path → compiled route, 404/405/HEAD/OPTIONS, mounts
 *   5 DI resolver        ┐
 *   6 validator          │ compiled per route, once, into the shortest chain it needs
 *   7 handler            │ (layers/handler/compile-route.ts)
 *   8 serializer         ┘
 *
 * @module
 */
import type { App as EventApp } from "../layers/adapter/events.js";
import type { Logger } from "./logger.js";
import type { Middleware } from "../layers/middleware/middleware.js";
import type { RouteDeclaration } from "../layers/handler/route-definition.js";
import type { RouteCompileContext } from "../layers/handler/compile-route.js";
import type { Router } from "../layers/router/router.js";
import { compose } from "../layers/middleware/middleware.js";
import { errorMiddleware } from "../layers/middleware/error-middleware.js";
import type { PendingWork } from "../layers/middleware/pending-work.js";
import { exceptionMiddleware, type ExceptionHandlers } from "../layers/middleware/exception-middleware.js";
import { RouterApp } from "../layers/router/router-app.js";
import { compileRoute } from "../layers/handler/compile-route.js";
import { compileWebSocketRoute, type WebSocketRouteDeclaration } from "../layers/handler/websocket-route.js";

/** Everything the pipeline is built from. */
export interface PipelineParts {
  logger: Logger;
  debug: boolean;
  routes: readonly RouteDeclaration[];
  websocketRoutes: readonly WebSocketRouteDeclaration[];
  mounts: ReadonlyArray<{ prefix: string; app: EventApp }>;
  middleware: readonly Middleware[];
  /** Middleware outside the error layer (`App.wrap`), the first outermost. */
  wrappers: readonly Middleware[];
  exceptionHandlers: ExceptionHandlers;
  /** Makes the matcher (layer 4); the pipeline wraps it in a dispatching `RouterApp`. */
  createRouter: () => Router<EventApp>;
  compile: RouteCompileContext;
  /** Counts work still running after responses (background tasks, cleanups) for the graceful close. */
  pending?: PendingWork;
  /** The middleware fold; default {@link compose}. The traced pipeline (lib/trace) passes one that times each layer. */
  compose?: typeof compose;
}

/** Builds the pipeline (layers 3 to 8, HTTP and WebSocket) as one event-interface app. */
export function buildPipeline(parts: PipelineParts): EventApp {
  const router = new RouterApp(parts.createRouter(), parts.createRouter());
  for (const route of parts.routes) router.route([...route.methods], route.path, compileRoute(route, parts.compile));
  for (const route of parts.websocketRoutes) router.websocket(route.path, compileWebSocketRoute(route, parts.compile));
  for (const { prefix, app } of parts.mounts) router.mount(prefix, app);
  const { logger, debug, exceptionHandlers, pending } = parts;
  const fold = parts.compose ?? compose;
  const handled =
    parts.middleware.length === 0
      ? // Nothing between them: the error and exception layers share one frame (same behaviour).
        fold([errorMiddleware({ logger, debug, exceptions: exceptionHandlers, pending })], router.handle)
      : fold([errorMiddleware({ logger, debug, pending }), ...parts.middleware, exceptionMiddleware(exceptionHandlers)], router.handle);
  return fold(parts.wrappers, handled);
}
