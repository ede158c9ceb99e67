/**
 * Layer 5, the DI resolver contract: compile a route's dependency map once at startup, then
 * resolve it per request.
 *
 * Compile walks the graph (sub-dependencies included), applies overrides, rejects cycles, and
 * orders the nodes so that each is resolved after what it needs; per request, each node is
 * resolved once and its value shared by everything that declared it (unless `cache: false`).
 * A route with no dependencies compiles to `null`: the pipeline does no DI work for it.
 *
 * Cleanups run in reverse order of creation and see the request's error (or undefined). A
 * dependency that fails while resolving cleans up what was already created before the error
 * propagates.
 *
 * Deliberately left out: property injection, asynchronous class constructors (use a function
 * dependency for async setup), and dependencies on the response.
 *
 * @module
 */
import type { ConnectionScope } from "../adapter/events.js";
import type { Constructor, DependencyExit, DependencyMap, DependencyToken, InputSchemas } from "./dependency.js";

/** Service lifetimes, as FastAPI users know them from DI containers. */
export type Lifetime = "singleton" | "request" | "transient";

/** The validated request inputs dependencies may read. */
export interface RequestInputs {
  scope: ConnectionScope;
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  cookies: Record<string, unknown>;
}

/** Cleanups collected while resolving one request. */
export interface ExitStack {
  /** Runs the cleanups of one phase, newest first; each sees `error`. Rejects with the first cleanup failure. */
  run(phase: DependencyExit, error: unknown): Promise<void>;
  /** True when there is nothing to run in any phase. */
  readonly empty: boolean;
}

/** The outcome of resolving a route's dependencies for one request. */
export interface Resolution {
  /** The route's named dependency values. */
  values: Record<string, unknown>;
  /** Cleanups to run after the handler and after the response. */
  exits: ExitStack;
}

/** A route's dependencies, compiled. */
export interface CompiledDependencies {
  /** Every input schema declared anywhere in the graph, in resolution order (for validation and OpenAPI). */
  readonly inputs: InputSchemas[];
  /** Resolves every dependency for one request. */
  resolve(inputs: RequestInputs): Promise<Resolution>;
  /**
   * Optional fast path: the same resolution, returned directly when it completed synchronously
   * (a promise otherwise). A synchronous failure may throw. Routes use it when present.
   */
  resolveNow?(inputs: RequestInputs): Resolution | Promise<Resolution>;
}

/** The resolver: one per app. */
export interface DependencyResolver {
  /** Compiles a route's dependency map; `null` when it is empty. */
  compile(deps: DependencyMap): CompiledDependencies | null;
  /** Registers a class service with a lifetime (`@injectable()` classes get constructor injection). */
  register<T>(token: Constructor<T>, lifetime: Lifetime): void;
  /** Registers an existing instance as the singleton for `token` (a database handle, settings). */
  registerValue<T>(token: Constructor<T>, value: T): void;
  /** Replaces `token` by `replacement` in every graph compiled afterwards; returns a function that undoes it. */
  override<T>(token: DependencyToken<T>, replacement: DependencyToken<T> | { useValue: T }): () => void;
  /**
   * The lifetime a class token was registered with, or undefined when it was not registered (for
   * tools that describe a graph, such as the lifecycle trace; optional: a resolver may not know).
   */
  lifetimeOf?(token: Constructor<unknown>): Lifetime | undefined;
}
