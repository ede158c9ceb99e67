/**
 * Layer 4, the router: maps (method, path) to a stored value and the path's parameters.
 *
 * The contract is a pure matcher, generic over what it stores, so that the same conformance suite
 * (`test/conformance/router`) runs against any implementation. Dispatching a request to the matched
 * value (404, 405 with `Allow`, HEAD, OPTIONS, mounts) is done by {@link RouterApp} in
 * `router-app.ts`, on top of any `Router`.
 *
 * Path syntax: FastAPI's `{name}` (one segment) and `{name:path}` (the rest of the path, slashes
 * included); find-my-way's `:name` and trailing `*` are accepted too. Static segments win over
 * parameters, parameters over wildcards, whatever the registration order.
 *
 * Deliberately left out: regular-expression parameters, host/version constraints, case-insensitive
 * matching and trailing-slash redirects.
 *
 * @module
 */

/** The result of a lookup. */
export type RouteLookup<T> =
  | { kind: "found"; value: T; params: Record<string, string> }
  | { kind: "method-not-allowed"; allowed: string[] }
  | { kind: "not-found" };

/** A method-and-path matcher. */
export interface Router<T> {
  /**
   * Registers `value` for `method` and `path`. Throws `RouteDefinitionError` when the same method
   * and path (up to parameter names) is already registered or the path is not valid syntax.
   */
  add(method: string, path: string, value: T): void;
  /**
   * Finds the value for a request. `path` is percent-decoded already; parameter values are
   * returned as they appear in it. When the path is known under other methods, the result is
   * `method-not-allowed` with those methods, sorted.
   */
  lookup(method: string, path: string): RouteLookup<T>;
}
