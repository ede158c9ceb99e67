/**
 * Function dependencies (FastAPI's `Depends`): how a route or another dependency declares what it
 * needs, and the `dependency()` helper that defines one with full static types.
 *
 * A dependency is either
 * - a **class token**: a class registered with the app's service container (singleton,
 *   request-scoped or transient lifetime, constructor injection by tsyringe), or
 * - a **function dependency**: a factory that may itself declare sub-dependencies and request
 *   inputs (query, header, cookie and path schemas, merged into the route's validation so every
 *   input error is reported at once, and into the OpenAPI document).
 *
 * A factory may return a value, a promise, or be a generator / async generator that yields its
 * value once: code after the `yield` is its cleanup, and it sees the request's error (thrown into
 * the generator at the `yield`), as FastAPI's dependencies with `yield` do.
 *
 * @module
 */
import type { ConnectionScope } from "../adapter/events.js";
import type { SchemaLike, StaticOf } from "../validator/schema-types.js";

/** Any class: the token for a service registered with the container. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructor parameters are resolved by the container, any is the only sound type here
export type Constructor<T> = abstract new (...args: any[]) => T;

/** When a dependency's cleanup runs. */
export type DependencyExit =
  /** After the response has been sent (FastAPI's default): cleanup cannot change the response. */
  | "after-response"
  /** Right after the handler, before the response is sent: a failing cleanup (a commit) becomes a 500. */
  | "after-handler";

/** The request inputs a dependency may declare, each a schema. */
export interface InputSchemas {
  params?: SchemaLike;
  query?: SchemaLike;
  headers?: SchemaLike;
  cookies?: SchemaLike;
}

/** What a dependency definition may declare besides its factory. */
export interface DependencySpec extends InputSchemas {
  /** Sub-dependencies, resolved first and passed to the factory as `deps`. */
  deps?: DependencyMap;
  /** When cleanup runs; default `"after-response"`. */
  exit?: DependencyExit;
  /** Resolve once per request and share the value (default true); false resolves at each use. */
  cache?: boolean;
  /** A name for error messages and logs; default the factory's name. */
  name?: string;
  /**
   * The security scheme this dependency checks (API key, HTTP Basic/Bearer, OAuth2), so the
   * OpenAPI document lists it for every route that depends on it, with the scopes it requires.
   */
  security?: SecurityRequirement;
}

/**
 * A security scheme a dependency enforces: its name in `components.securitySchemes`, the OpenAPI
 * Security Scheme Object, and the OAuth2 scopes (empty for other schemes) a route needs.
 */
export interface SecurityRequirement {
  readonly name: string;
  readonly scheme: Readonly<Record<string, unknown>>;
  readonly scopes: readonly string[];
}

/** Named dependencies, as a route or dependency declares them. */
export type DependencyMap = { readonly [name: string]: DependencyToken<unknown> };

/** Anything that can be declared as a dependency. */
export type DependencyToken<T> = FunctionDependency<T> | Constructor<T>;

/** The value type a token provides. */
export type Provided<D> = D extends FunctionDependency<infer T> ? T : D extends Constructor<infer T> ? T : never;

/** The resolved values of a dependency map. */
export type ResolvedDeps<M> = M extends DependencyMap ? { [K in keyof M]: Provided<M[K]> } : Record<string, never>;

/** The values a factory receives. */
export interface DependencyContext<S extends DependencySpec = DependencySpec> {
  /** The request being served. */
  scope: ConnectionScope;
  deps: ResolvedDeps<S["deps"]>;
  params: StaticOf<S["params"], Record<string, unknown>>;
  query: StaticOf<S["query"], Record<string, unknown>>;
  headers: StaticOf<S["headers"], Record<string, unknown>>;
  cookies: StaticOf<S["cookies"], Record<string, unknown>>;
}

/** What a factory may return: a value, a promise, or a (async) generator yielding the value once. */
export type FactoryResult<T> = T | Promise<T> | Generator<T, void, unknown> | AsyncGenerator<T, void, unknown>;

/** The value type behind a factory result. */
export type Unwrap<R> =
  R extends AsyncGenerator<infer Y, unknown, unknown> ? Y : R extends Generator<infer Y, unknown, unknown> ? Y : Awaited<R>;

/** A defined function dependency. Create with {@link dependency}. */
export interface FunctionDependency<T> {
  readonly kind: "laminar.dependency";
  readonly name: string;
  readonly deps: DependencyMap;
  readonly inputs: InputSchemas;
  readonly exit: DependencyExit;
  readonly cache: boolean;
  /** The security scheme it enforces, for the OpenAPI document. */
  readonly security: SecurityRequirement | undefined;
  // The factory's context is typed at definition; stored erased.
  readonly factory: (ctx: DependencyContext) => FactoryResult<T>;
  /** Phantom field carrying T for inference; never set. */
  readonly __type?: T;
}

/**
 * Defines a function dependency.
 *
 * @example
 * const pagination = dependency(
 *   { query: Type.Object({ limit: Type.Integer({ default: 20 }) }) },
 *   ({ query }) => ({ limit: query.limit }),
 * );
 * const db = dependency({}, async function* () {
 *   const conn = await pool.connect();
 *   try { yield conn; } finally { conn.release(); }
 * });
 */
export function dependency<const S extends DependencySpec, R>(
  spec: S,
  factory: (ctx: DependencyContext<S>) => R,
): FunctionDependency<Unwrap<R>> {
  return {
    kind: "laminar.dependency",
    name: spec.name ?? (factory.name || "anonymous dependency"),
    deps: spec.deps ?? {},
    inputs: { params: spec.params, query: spec.query, headers: spec.headers, cookies: spec.cookies },
    exit: spec.exit ?? "after-response",
    cache: spec.cache ?? true,
    security: spec.security,
    factory: factory as unknown as (ctx: DependencyContext) => FactoryResult<Unwrap<R>>,
  };
}

/** True when `token` is a function dependency (as opposed to a class token). */
export function isFunctionDependency(token: unknown): token is FunctionDependency<unknown> {
  return typeof token === "object" && token !== null && (token as { kind?: unknown }).kind === "laminar.dependency";
}
