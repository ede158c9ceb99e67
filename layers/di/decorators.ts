/**
 * The class decorators users need for constructor injection, re-exported from tsyringe so that
 * application code imports them from laminar (and gets `reflect-metadata` loaded first).
 *
 * Constructor injection by type needs decorator metadata: tap's ts-node and `tsc` with
 * `emitDecoratorMetadata` emit it, esbuild-based runners (tsx) do not; there, use `@inject(token)`
 * on every constructor parameter.
 *
 * Prefer `resolver.register(Class, lifetime)` over `@singleton()`: `@singleton()` registers the
 * class in tsyringe's *global* container, shared by every app in the process, and such a singleton
 * is constructed in whichever container first resolves it.
 *
 * @example
 * @injectable()
 * class BookService {
 *   constructor(readonly repo: BookRepository, @inject(REQUEST_SCOPE) readonly scope: ConnectionScope) {}
 * }
 *
 * @module
 */
import "reflect-metadata";

export { inject, injectable, singleton } from "tsyringe";
