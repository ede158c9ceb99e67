/**
 * The first DI resolver: function dependencies compiled by laminar, class services held by a
 * tsyringe container.
 *
 * Containers:
 * - the **app container** (`resolver.container`): where `register()` puts class services. By
 *   default a fresh child of tsyringe's global container, so two apps in one process never share
 *   registrations (but still see what `@injectable({ token })` / `@singleton()` put in the global one);
 * - one **request container** per request that needs a request-scoped or transient class: a child
 *   of the app container, created lazily (a route with only function dependencies or singletons
 *   creates none), holding {@link REQUEST_SCOPE} and the request's instances, and disposed after the
 *   response (tsyringe calls `dispose()` on every instance it constructed there);
 * - a private **singleton home**: singletons are constructed there, never in a request container.
 *   tsyringe constructs a singleton in whichever container first resolves it and registers it as a
 *   disposable of *that* container, so a singleton first needed during a request would otherwise be
 *   disposed with that request's container. A singleton that needs a request-scoped class (or
 *   {@link REQUEST_SCOPE}) fails with a clear error instead of capturing the first request's instance.
 *
 * The fast path: a request-scoped or transient class whose constructor takes no parameters (the
 * common case: a per-request log, a unit of work) is constructed by laminar itself and kept in a
 * small per-request table, without a child container. A child container costs several
 * microseconds per request (tsyringe copies every container-scoped registration into it, and it
 * must be disposed after the response); a `new` costs nothing. Semantics are kept: one instance
 * per request for "request", one per use for "transient", `dispose()` called after the response.
 * When a request also needs the container (a class with constructor parameters), the instances
 * already made are handed to it, so a request still sees one instance of each request-scoped class.
 *
 * Class tokens that were never registered resolve as tsyringe resolves them: constructed per use
 * (transient) in the request container. This keeps registration order free (a route may be
 * declared before its services are registered). A class that cannot be constructed that way (its
 * constructor takes parameters but it has no decorator metadata) is rejected when the route is
 * compiled, with `InvalidDependencyError`, rather than at its first request.
 *
 * Overrides replace a token where it is declared in a dependency graph (a route's or a function
 * dependency's `deps`), as FastAPI's `dependency_overrides` do. They do not reach into tsyringe's
 * constructor injection: to swap a constructor parameter in tests, register another class on
 * `resolver.container` (or pass your own container).
 *
 * @module
 */
import "reflect-metadata";
import { container as globalContainer, Lifecycle, type DependencyContainer } from "tsyringe";
import type { ConnectionScope } from "../adapter/events.js";
import { InvalidDependencyError } from "../../lib/errors.js";
import type { Constructor, DependencyMap, DependencyToken } from "./dependency.js";
import { planDependencies } from "./dependency-plan.js";
import { CompiledGraph, type ClassRequest, type ClassResolver } from "./compiled-graph.js";
import { OverrideTable } from "./override-table.js";
import type { CompiledDependencies, DependencyResolver, Lifetime } from "./resolver.js";

/**
 * The token under which each request container holds the request's {@link ConnectionScope}.
 *
 * @example
 * @injectable()
 * class CurrentUser {
 *   constructor(@inject(REQUEST_SCOPE) readonly scope: ConnectionScope) {}
 * }
 * resolver.register(CurrentUser, "request");
 */
export const REQUEST_SCOPE: unique symbol = Symbol("laminar.requestScope");

/** The type of {@link REQUEST_SCOPE}, for declaring it in your own signatures. */
export type RequestScopeToken = typeof REQUEST_SCOPE;

const LIFETIMES: readonly Lifetime[] = ["singleton", "request", "transient"];

let resolverCount = 0;

/** True when tsyringe can construct `token`: no constructor parameters, or decorator metadata for them. */
function isConstructible(token: Constructor<unknown>): boolean {
  return (
    token.length === 0 ||
    Reflect.hasMetadata("design:paramtypes", token) ||
    // tsyringe's @inject() stores its tokens under this key (reflection-helpers.ts).
    Reflect.hasOwnMetadata("injectionTokens", token)
  );
}

function notConstructible(token: Constructor<unknown>): Error {
  return new InvalidDependencyError(
    token.name || "anonymous class",
    "its constructor takes parameters but it has no injection metadata: decorate it with @injectable() " +
      "(and build with tsc and emitDecoratorMetadata, or use @inject(token) on every parameter)",
  );
}

/** True when `token`'s constructor takes no parameters at all (none declared, none injected, none inherited). */
function takesNoParameters(token: Constructor<unknown>): boolean {
  if (token.length !== 0) return false;
  // getMetadata (not own): a subclass without its own constructor inherits its parent's parameters.
  const paramTypes = Reflect.getMetadata("design:paramtypes", token) as unknown[] | undefined;
  if (paramTypes !== undefined && paramTypes.length > 0) return false;
  return Reflect.getMetadata("injectionTokens", token) === undefined;
}

/** A request's class instances: the fast path's table, and the child container once one is needed. */
interface RequestClasses {
  /**
   * Request-scoped instances as a flat list, token then instance: a request holds a few, where a
   * linear scan beats hashing and the list is a fraction of a Map's allocation per request.
   */
  readonly instances: unknown[];
  container: DependencyContainer | undefined;
  /** Fast-path instances with a `dispose()`, in construction order. */
  readonly disposables: Array<{ dispose(): unknown }>;
  /** Whether the after-response cleanup is registered (once per request, by the graph that needed it). */
  cleanup: boolean;
}

function isDisposable(instance: unknown): instance is { dispose(): unknown } {
  return typeof (instance as { dispose?: unknown } | null)?.dispose === "function";
}

/**
 * `DependencyResolver` backed by tsyringe.
 *
 * @example
 * const resolver = new TsyringeResolver();
 * resolver.register(Database, "singleton");
 * const compiled = resolver.compile({ db: Database, page: pagination });
 * const { values, exits } = await compiled!.resolve(inputs);
 */
export class TsyringeResolver implements DependencyResolver, ClassResolver {
  /** The app container: registrations live here; each request container is its child. */
  readonly container: DependencyContainer;
  private readonly singletons: DependencyContainer;
  private readonly lifetimes = new Map<Constructor<unknown>, Lifetime>();
  /** Request-scoped and transient classes laminar constructs itself (see the module doc). */
  private readonly plain = new Set<Constructor<unknown>>();
  private readonly overrides = new OverrideTable();
  /** The `scope.extensions` key of this resolver's request container (two apps never share one). */
  private readonly extensionKey = `laminar.di.container.${++resolverCount}`;
  private readonly ownsContainer: boolean;

  /** @param parent the app container to use; default a new child of tsyringe's global container. */
  constructor(parent?: DependencyContainer) {
    this.ownsContainer = parent === undefined;
    this.container = parent ?? globalContainer.createChildContainer();
    this.singletons = this.container.createChildContainer();
    // Outside a request container there is no request: say so instead of tsyringe's "unregistered token".
    this.container.register(REQUEST_SCOPE, {
      useFactory: () => {
        throw new InvalidDependencyError(
          "REQUEST_SCOPE",
          "it is only available to request-scoped and transient classes resolved for a request (not to singletons)",
        );
      },
    });
  }

  /** Registers a class service; see the module doc for where each lifetime is constructed. */
  register<T>(token: Constructor<T>, lifetime: Lifetime): void {
    if (typeof token !== "function" || token.prototype === undefined) {
      throw new InvalidDependencyError(String(token), "only a class can be registered");
    }
    if (!LIFETIMES.includes(lifetime)) {
      throw new InvalidDependencyError(token.name, `unknown lifetime ${String(lifetime)}: expected ${LIFETIMES.join(", ")}`);
    }
    if (!isConstructible(token)) throw notConstructible(token);
    const cls = token as unknown as new (...args: unknown[]) => T;
    if (lifetime !== "singleton" && takesNoParameters(token)) this.plain.add(token);
    else this.plain.delete(token);
    switch (lifetime) {
      case "singleton":
        this.singletons.register(cls, { useClass: cls }, { lifecycle: Lifecycle.Singleton });
        // Resolving from any container (app or request) hands over the singleton home's instance.
        this.container.register(cls, { useFactory: () => this.singletons.resolve(cls) });
        break;
      case "request":
        // ContainerScoped registrations are copied into each child container with a fresh
        // instance slot (tsyringe's createChildContainer): one instance per request container.
        this.container.register(cls, { useClass: cls }, { lifecycle: Lifecycle.ContainerScoped });
        this.singletons.register(cls, {
          useFactory: () => {
            throw new InvalidDependencyError(
              token.name,
              "it is request-scoped and a singleton depends on it (a singleton would keep the first request's instance)",
            );
          },
        });
        break;
      case "transient":
        this.container.register(cls, { useClass: cls }, { lifecycle: Lifecycle.Transient });
        // Shadow any earlier registration in the singleton home (tsyringe keeps the newest).
        this.singletons.register(cls, { useClass: cls }, { lifecycle: Lifecycle.Transient });
        break;
    }
    this.lifetimes.set(token, lifetime);
  }

  /**
   * Registers an existing instance as the singleton for `token` (a database handle, settings).
   * laminar did not construct it, so {@link TsyringeResolver.dispose} does not dispose it.
   */
  registerValue<T>(token: Constructor<T>, value: T): void {
    if (typeof token !== "function" || token.prototype === undefined) {
      throw new InvalidDependencyError(String(token), "only a class can be registered");
    }
    const cls = token as unknown as new (...args: unknown[]) => T;
    this.container.register(cls, { useValue: value });
    this.singletons.register(cls, { useValue: value });
    this.plain.delete(token);
    this.lifetimes.set(token, "singleton");
  }

  /** The lifetime `token` was registered with (`registerValue` counts as singleton); undefined when unregistered. */
  lifetimeOf(token: Constructor<unknown>): Lifetime | undefined {
    return this.lifetimes.get(token);
  }

  /** Replaces `token` in graphs compiled afterwards; the returned function undoes exactly this override. */
  override<T>(token: DependencyToken<T>, replacement: DependencyToken<T> | { useValue: T }): () => void {
    return this.overrides.add(token, replacement);
  }

  /** Compiles a route's dependency map; `null` for `{}`. Throws DependencyCycleError / InvalidDependencyError. */
  compile(deps: DependencyMap): CompiledDependencies | null {
    if (typeof deps === "object" && deps !== null && Object.keys(deps).length === 0) return null;
    const plan = planDependencies(deps, this.overrides, (token) => {
      if (!this.container.isRegistered(token as Constructor<unknown> as never, true) && !isConstructible(token)) {
        throw notConstructible(token);
      }
    });
    return new CompiledGraph(plan, this);
  }

  /** Resolves a class token for one request (called by compiled graphs). */
  resolve(token: Constructor<unknown>, request: ClassRequest): unknown {
    const lifetime = this.lifetimes.get(token);
    if (lifetime === "singleton") return this.singletons.resolve(token as never);
    const classes = (request.classScope as RequestClasses | undefined) ?? this.requestClasses(request);
    if (classes.container === undefined && this.plain.has(token)) {
      const instances = classes.instances;
      if (lifetime === "request") {
        for (let i = 0; i < instances.length; i += 2) if (instances[i] === token) return instances[i + 1];
      }
      const instance = new (token as new () => unknown)();
      if (lifetime === "request") instances.push(token, instance);
      if (isDisposable(instance)) {
        classes.disposables.push(instance);
        this.cleanUpAfterResponse(classes, request);
      }
      return instance;
    }
    return this.openRequestContainer(classes, request).resolve(token as never);
  }

  /**
   * Disposes the singletons (tsyringe calls their `dispose()`) and, when the resolver created it,
   * the app container. Call once at shutdown (the lifespan's end); the resolver is unusable after.
   */
  async dispose(): Promise<void> {
    await this.singletons.dispose();
    if (this.ownsContainer) await this.container.dispose();
  }

  /**
   * The request's class state: one per request and resolver, kept in `scope.extensions` so that
   * two graphs resolved for the same request (an app's dependencies, then a route's) share
   * request-scoped instances.
   */
  private requestClasses(request: ClassRequest): RequestClasses {
    const extensions = (request.scope.extensions ??= {});
    let classes = extensions[this.extensionKey] as RequestClasses | undefined;
    if (classes === undefined) {
      classes = { instances: [], container: undefined, disposables: [], cleanup: false };
      extensions[this.extensionKey] = classes;
    }
    request.classScope = classes;
    return classes;
  }

  /**
   * The request's child container, created at the first class that needs tsyringe; the instances
   * the fast path already made for this request are registered in it, so constructor injection
   * receives those same instances.
   */
  private openRequestContainer(classes: RequestClasses, request: ClassRequest): DependencyContainer {
    if (classes.container !== undefined) return classes.container;
    const created = this.container.createChildContainer();
    created.register<ConnectionScope>(REQUEST_SCOPE, { useValue: request.scope });
    const instances = classes.instances;
    for (let i = 0; i < instances.length; i += 2) created.register(instances[i] as never, { useValue: instances[i + 1] });
    classes.container = created;
    this.cleanUpAfterResponse(classes, request);
    return created;
  }

  /**
   * Registers, once per request, the cleanup that forgets the request's classes and disposes what
   * was constructed for it (fast-path instances newest first, then the container, which disposes
   * what tsyringe constructed). Registered by the graph that first needed it, after the response.
   */
  private cleanUpAfterResponse(classes: RequestClasses, request: ClassRequest): void {
    if (classes.cleanup) return;
    classes.cleanup = true;
    const extensions = request.scope.extensions!;
    request.defer("after-response", async () => {
      delete extensions[this.extensionKey];
      // Every instance is disposed even when one fails; the first failure is reported after.
      let failure: unknown = undefined;
      let failed = false;
      for (let i = classes.disposables.length - 1; i >= 0; i--) {
        try {
          await classes.disposables[i]!.dispose();
        } catch (error) {
          if (!failed) [failed, failure] = [true, error];
        }
      }
      await classes.container?.dispose();
      if (failed) throw failure;
    });
  }
}
