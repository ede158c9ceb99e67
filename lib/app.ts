/**
 * `App`: what users write against. Routes (it is an {@link APIRouter}), middleware, exception
 * handlers, services and dependency overrides, mounts, a lifespan, and `listen()`.
 *
 * Nothing is compiled while routes are declared. The pipeline is built on first use (the first
 * request, `listen()` or a test client) and rebuilt after a dependency override changes, so
 * overrides made by a test apply to its requests. `app.handle` is the event-interface app itself:
 * pass it to any connection server, or mount it in another app.
 *
 * @module
 */
import "reflect-metadata";
import type { App as EventApp, LifespanScope } from "../layers/adapter/events.js";
import type { Middleware } from "../layers/middleware/middleware.js";
import type { Constructor, DependencyToken } from "../layers/di/dependency.js";
import type { DependencyResolver, Lifetime } from "../layers/di/resolver.js";
import type { Validator } from "../layers/validator/validator.js";
import type { Serializer } from "../layers/serializer/serializer.js";
import type { Router } from "../layers/router/router.js";
import type { ConnectionServer, ListenOptions, ListeningAddress, CloseOptions } from "../layers/server/connection-server.js";
import { APIRouter, type RouterOptions } from "./api-router.js";
import { buildPipeline, type PipelineParts } from "./pipeline.js";
import { buildTracedPipeline } from "./trace/traced-pipeline.js";
import { resolveTraceOptions, type ResolvedTraceOptions, type TraceOptions } from "./trace/trace-options.js";
import { createLogger, type Logger } from "./logger.js";
import { PendingWork } from "../layers/middleware/pending-work.js";
import { LifespanRunner, lifespanApp, type LifespanHandler } from "./lifespan.js";
import { defaultExceptionHandlers, type ErrorClass, type ExceptionHandler } from "../layers/middleware/exception-middleware.js";
import { DEFAULT_LIMITS } from "../layers/server/connection-server.js";
import { FindMyWayRouter } from "../layers/router/find-my-way-router.js";
import { AjvValidator } from "../layers/validator/ajv-validator.js";
import type { FormLimits } from "../layers/validator/form-limits.js";
import { FastJsonSerializer } from "../layers/serializer/fast-json-serializer.js";
import { TsyringeResolver } from "../layers/di/tsyringe-resolver.js";
import { NodeHttpServer } from "../layers/server/node-http-server.js";
import { UwsServer } from "../layers/server/uws-server.js";
import { Http2Server } from "../layers/server/http2-server.js";
import { docsRoutes, type OpenApiAppOptions } from "./openapi/docs-routes.js";
import { generateOpenApi } from "./openapi/generate-openapi.js";
import { toOpenApi30 } from "./openapi/openapi-30.js";
import type { OpenApiDocument, OpenApiVersion } from "./openapi/openapi-types.js";

/** The graceful close's default bound, as the connection servers' own. */
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** Options for {@link App}. Every layer implementation can be swapped here. */
export interface AppOptions extends RouterOptions, OpenApiAppOptions {
  /** Put error details (name, message, stack) in 500 bodies. Default false. */
  debug?: boolean;
  /** Logger for errors; default pino at `LOG_LEVEL` (info). */
  logger?: Logger;
  /**
   * App-wide request body limit in bytes (default 1 MiB); routes may lower or raise it with
   * `bodyLimit`. The connection server's own ceiling is this limit, raised to the largest route
   * `bodyLimit`, unless `listen({ maxBodySize })` sets it explicitly.
   */
  maxBodySize?: number;
  /** App-wide limits and file storage for `form` bodies (layers/validator/form-limits.ts); routes override them. */
  formLimits?: Partial<FormLimits>;
  /** Startup/teardown around the app's life; what it yields becomes every request's `scope.state`. */
  lifespan?: LifespanHandler;
  /** Layer implementations; the defaults are find-my-way, ajv, fast-json-stringify and tsyringe. */
  validator?: Validator;
  serializer?: Serializer;
  resolver?: DependencyResolver;
  createRouter?: () => Router<EventApp>;
  /** Connection server used by `listen()`; default node:http. Wins over `server`. */
  createServer?: () => ConnectionServer;
  /**
   * Which built-in connection server `listen()` uses: `"node"` (default, node:http), `"uws"`
   * (uWebSockets.js, an optional dependency; `listen()` rejects with `UwsUnavailableError` when it
   * cannot be loaded) or `"http2"` (node:http2: h2 over TLS with HTTP/1.1 fallback, h2c without TLS).
   */
  server?: "node" | "uws" | "http2";
  /**
   * The lifecycle trace (lib/trace): records each layer's time for every HTTP request and, by
   * default, sends them in a `Server-Timing` header. Off by default; when off, the pipeline has no
   * trace code in it (the traced one is a different pipeline, built only when this is on).
   */
  trace?: boolean | TraceOptions;
}

/** What {@link App.listen} takes: a connection server's listen options, plus which built-in server to use. */
export interface AppListenOptions extends ListenOptions {
  /**
   * Overrides the constructor's `server` option for this listen: the `laminar` command line
   * passes its `--server` here, since the app was constructed by the user's module. A
   * `createServer` option still wins (a custom server is the app's own choice).
   */
  server?: "node" | "uws" | "http2";
}

/**
 * A laminar application.
 *
 * @example
 * const app = new App();
 * app.get("/hello", () => ({ message: "hello" }));
 * await app.listen({ port: 8000 });
 */
export class App extends APIRouter {
  /** The logger every layer of this app uses. */
  readonly logger: Logger;
  /** The DI resolver: register services on it, or use {@link App.provide}. */
  readonly resolver: DependencyResolver;
  private readonly settings: AppOptions;
  private readonly userMiddleware: Middleware[] = [];
  private readonly wrappers: Middleware[] = [];
  private readonly exceptionHandlers = defaultExceptionHandlers();
  private readonly mounts: Array<{ prefix: string; app: EventApp }> = [];
  private pipeline: EventApp | undefined;
  private server: ConnectionServer | undefined;
  private lifespanRunner: LifespanRunner | undefined;
  private tracing: ResolvedTraceOptions | undefined;
  /** The OpenAPI 3.1 document, generated at its first use (lib/openapi). */
  private openapiDocument: OpenApiDocument | undefined;
  /** Work after responses (background tasks, cleanups) that a graceful close waits for. */
  private readonly pendingWork = new PendingWork();
  private readonly lifespanHandler: (scope: LifespanScope, receive: Parameters<EventApp>[1], send: Parameters<EventApp>[2]) => Promise<void>;

  constructor(options: AppOptions = {}) {
    super(options);
    this.settings = options;
    this.logger = options.logger ?? createLogger();
    this.resolver = options.resolver ?? new TsyringeResolver();
    this.lifespanHandler = lifespanApp(options.lifespan);
    this.tracing = resolveTraceOptions(options.trace);
  }

  /**
   * Turns the lifecycle trace on (`true` or options) or off (`false`) after construction; the
   * pipeline is rebuilt at its next use. `laminar trace` does this on the app a module exports.
   */
  setTrace(trace: boolean | TraceOptions): this {
    this.tracing = resolveTraceOptions(trace);
    this.invalidate();
    return this;
  }

  /**
   * The event-interface app: HTTP requests and WebSockets go through the pipeline (built on first use), lifespan
   * events to the lifespan handler.
   */
  readonly handle: EventApp = (scope, receive, send) => {
    if (scope.type !== "lifespan") return (this.pipeline ?? this.build())(scope, receive, send);
    return this.lifespanHandler(scope, receive, send);
  };

  /** Adds a middleware; the first added is the outermost of the user's middleware. */
  use(middleware: Middleware): this {
    this.userMiddleware.push(middleware);
    this.invalidate();
    return this;
  }

  /**
   * Wraps the whole pipeline in `middleware`: outermost, outside the error layer and every
   * {@link App.use} middleware, so it sees each request (HTTP and WebSocket) before anything else
   * and what it changes in the scope is what the error layer's logs, every middleware and the
   * routes see. The CLI wraps the app in `proxyHeaders` this way (`--forwarded-allow-ips`). The
   * first wrapped is the outermost. Lifespan events do not pass through it (nor through `use`).
   *
   * Being outside the error layer, an error it throws is not answered by the exception handlers:
   * the server turns it into a bare 500 (or closes the connection). Keep wrappers small and total.
   *
   * @example
   * app.wrap(proxyHeaders({ trustedHosts: "127.0.0.1,::1" }));
   */
  wrap(middleware: Middleware, options: { outermost?: boolean } = {}): this {
    // `outermost` puts it in front of wrappers added before (the CLI's proxyHeaders, added after the app's module ran).
    if (options.outermost === true) this.wrappers.unshift(middleware);
    else this.wrappers.push(middleware);
    this.invalidate();
    return this;
  }

  /** Registers the response for errors of class `cls` (and its subclasses), replacing any default. */
  exceptionHandler<E>(cls: ErrorClass<E>, handler: ExceptionHandler<E>): this {
    this.exceptionHandlers.set(cls, handler);
    this.invalidate();
    return this;
  }

  /** Serves any event-interface app (or another laminar App) under `prefix`, with `rootPath` set. */
  mount(prefix: string, app: EventApp | App): this {
    this.mounts.push({ prefix, app: app instanceof App ? app.handle : app });
    this.invalidate();
    return this;
  }

  /** Registers a class service with a lifetime: `"singleton"`, `"request"` or `"transient"`. */
  provide<T>(cls: Constructor<T>, lifetime: Lifetime = "singleton"): this {
    this.resolver.register(cls, lifetime);
    this.invalidate();
    return this;
  }

  /** Registers an existing instance as the singleton for a class token. */
  provideValue<T>(cls: Constructor<T>, value: T): this {
    this.resolver.registerValue(cls, value);
    this.invalidate();
    return this;
  }

  /**
   * Replaces a dependency (function dependency or class) for this app, FastAPI's
   * `dependency_overrides`. Returns a function that restores the original.
   *
   * @example
   * const restore = app.override(currentUser, { useValue: testUser });
   * t.teardown(restore);
   */
  override<T>(token: DependencyToken<T>, replacement: DependencyToken<T> | { useValue: T }): () => void {
    const undo = this.resolver.override(token, replacement);
    this.invalidate();
    return () => {
      undo();
      this.invalidate();
    };
  }

  /** Builds (or rebuilds) the pipeline now; called lazily otherwise. Throws on invalid declarations. */
  build(): EventApp {
    const validator = this.settings.validator ?? new AjvValidator();
    const serializer = this.settings.serializer ?? new FastJsonSerializer();
    const parts: PipelineParts = {
      logger: this.logger,
      debug: this.settings.debug ?? false,
      // The document and docs pages are routes too, left out of the document itself.
      routes: [...this.routes, ...docsRoutes(this.settings, () => this.openapi())],
      websocketRoutes: this.websocketRoutes,
      mounts: this.mounts,
      middleware: this.userMiddleware,
      wrappers: this.wrappers,
      exceptionHandlers: this.exceptionHandlers,
      pending: this.pendingWork,
      createRouter: this.settings.createRouter ?? (() => new FindMyWayRouter<EventApp>()),
      compile: {
        validator,
        serializer,
        resolver: this.resolver,
        maxBodySize: this.settings.maxBodySize ?? DEFAULT_LIMITS.maxBodySize,
        formLimits: this.settings.formLimits,
      },
    };
    // Chosen here, once per build: the untraced pipeline carries no trace check per request.
    this.pipeline = this.tracing === undefined ? buildPipeline(parts) : buildTracedPipeline(parts, this.tracing);
    return this.pipeline;
  }

  /**
   * The OpenAPI document of this app's routes (lib/openapi/generate-openapi.ts), in the version
   * given or the `openapiVersion` option (default 3.1.0). Generated at the first call (the first
   * request for `/openapi.json`) and cached until a route is declared.
   * Apps mounted with {@link App.mount} are not in it either; each serves its own.
   *
   * @throws OpenApiError when the routes cannot be described (duplicate operation IDs, …)
   */
  openapi(version: OpenApiVersion = this.settings.openapiVersion ?? "3.1.0"): OpenApiDocument {
    const { title, version: apiVersion, description, servers } = this.settings;
    this.openapiDocument ??= generateOpenApi(this.routes, { title, version: apiVersion, description, servers });
    return version === "3.0.3" ? toOpenApi30(this.openapiDocument) : this.openapiDocument;
  }

  /**
   * The body ceiling for the connection server: the app-wide limit, raised to the largest route
   * `bodyLimit`, so that a route declaring a larger limit (an upload) is reachable at all. The
   * server's ceiling only rejects early (413 by `Content-Length`); each route still enforces its
   * own limit while reading, so the other routes keep the app-wide one.
   */
  private serverBodyLimit(): number {
    let limit = this.settings.maxBodySize ?? DEFAULT_LIMITS.maxBodySize;
    for (const route of this.routes) {
      const routeLimit = route.options.bodyLimit;
      if (routeLimit !== undefined && routeLimit > limit) limit = routeLimit;
    }
    return limit;
  }

  private invalidate(): void {
    this.pipeline = undefined;
  }

  /** A route declared after the first request (or after `openapi()`) is served and documented too. */
  protected override routesChanged(): void {
    this.pipeline = undefined;
    this.openapiDocument = undefined;
  }

  /**
   * Runs the lifespan startup, then serves on a connection server (node:http by default;
   * `options.server` picks a built-in one for this listen). Rejects if startup fails or the address cannot be bound.
   */
  async listen(listenOptions: AppListenOptions = {}): Promise<ListeningAddress> {
    if (this.server !== undefined) throw new Error("App is already listening");
    const { server: kind = this.settings.server, ...options } = listenOptions;
    this.build();
    // Created before the lifespan starts, so an unavailable uWebSockets.js fails before startup runs.
    const server =
      this.settings.createServer?.() ??
      (kind === "uws" ? new UwsServer({ logger: this.logger }) : kind === "http2" ? new Http2Server({ logger: this.logger }) : new NodeHttpServer({ logger: this.logger }));
    const runner = new LifespanRunner(this.handle);
    const state = await runner.startup();
    this.lifespanRunner = runner;
    try {
      const address = await server.listen(this.handle, {
        maxBodySize: this.serverBodyLimit(),
        logger: this.logger,
        ...options,
        state,
      });
      this.server = server;
      return address;
    } catch (error) {
      await runner.shutdown();
      this.lifespanRunner = undefined;
      throw error;
    }
  }

  /**
   * Graceful close: stop accepting, let in-flight requests finish, wait for the work still running
   * after their responses (background tasks, dependency cleanups), then run the lifespan shutdown,
   * which that work may still need. `timeout` (default 10 s) bounds the first two together: what
   * is still running then is logged and left behind.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const started = Date.now();
    const timeout = options.timeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await server.close({ timeout });
    if (!(await this.pendingWork.settled(Math.max(0, timeout - (Date.now() - started))))) {
      this.logger.warn({ running: this.pendingWork.size }, "graceful close timed out with background work still running");
    }
    const runner = this.lifespanRunner;
    this.lifespanRunner = undefined;
    if (runner !== undefined) await runner.shutdown();
  }
}
