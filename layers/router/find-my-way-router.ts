/**
 * The {@link Router} contract on find-my-way v9 (Fastify's radix-tree router).
 *
 * @module
 */
import FindMyWay from "find-my-way";
import { RouteDefinitionError } from "../../lib/errors.js";
import { escapeLookupPath, toFindMyWayPattern } from "./find-my-way-path.js";
import type { RouteLookup, Router } from "./router.js";

/** Options of {@link FindMyWayRouter}. */
export interface FindMyWayRouterOptions {
  /**
   * Longest value a one-segment parameter may have; a longer one makes the route not match
   * (`not-found`, never an exception). Default 8192. find-my-way's own default (100) is the
   * Fastify `maxParamLength` that 404s long tokens and base64 ids; the limit exists to bound the
   * input of its regex nodes (`{name}.json`, `{a}-{b}`), so it stays finite. 8 KiB is above any
   * real identifier and below Node's default 16 KiB header limit, which caps the request line.
   * `{name:path}` wildcards are not limited.
   */
  maxParamLength?: number;
  /**
   * Use find-my-way's compiler mode (`compile()`: each method tree compiled to JavaScript,
   * "1.5 to 3 times faster" per its README, same matching semantics). Default true. Trees changed by
   * `add` are recompiled lazily on their next lookup, so register routes before serving.
   */
  compile?: boolean;
}

/** What find-my-way stores for a route: the caller's value plus what lookup needs to finish. */
interface Entry<T> {
  readonly value: T;
  readonly paramNames: readonly string[];
  /** Non-null only when the wildcard's value must be renamed from `*` (FastAPI `{name:path}`). */
  readonly renameWildcardTo: string | null;
}

type FindMyWayInstance = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
type FindMyWayMethod = FindMyWay.HTTPMethod;

const NOT_FOUND: RouteLookup<never> = Object.freeze({ kind: "not-found" });
/** Lookup paths never carry a query string (see escapeLookupPath): skip find-my-way's `{}` per find. */
const NO_QUERY: Record<string, string> = Object.freeze({}) as Record<string, string>;
const noop = (): void => {};

/**
 * A {@link Router} backed by find-my-way.
 *
 * find-my-way configuration and why: `caseSensitive: true` and `ignoreTrailingSlash: false`
 * (`/Users` and `/users/` are other resources, as in Starlette; no redirects, see the contract);
 * `ignoreDuplicateSlashes: false` (same reason); `maxParamLength` see
 * {@link FindMyWayRouterOptions}; no `onBadUrl`/`onMaxParamLength`/`defaultRoute` (a miss is simply
 * `null`). The request path is already decoded; {@link escapeLookupPath} makes find-my-way's own
 * decoding an identity on it.
 *
 * Differences from raw find-my-way the contract requires: an empty one-segment parameter does not
 * match (`/users/` is not `/users/{id}`, like Starlette's `[^/]+`); when that rejects a hit, the
 * lookup does not backtrack to a sibling wildcard (find-my-way already chose), it reports a miss.
 *
 * The found path allocates find-my-way's result and params object plus one result object; the
 * `method-not-allowed` answer is computed only on a miss, by one lookup per other registered method.
 *
 * @example
 * const router = new FindMyWayRouter<string>();
 * router.add("GET", "/users/{id}", "user");
 * router.lookup("GET", "/users/42"); // { kind: "found", value: "user", params: { id: "42" } }
 */
export class FindMyWayRouter<T> implements Router<T> {
  readonly #fmw: FindMyWayInstance;
  /** Methods with at least one route, sorted: the candidates of a `method-not-allowed` answer. */
  readonly #methods: string[] = [];

  constructor(options: FindMyWayRouterOptions = {}) {
    this.#fmw = FindMyWay({
      caseSensitive: true,
      ignoreTrailingSlash: false,
      ignoreDuplicateSlashes: false,
      maxParamLength: options.maxParamLength ?? 8192,
      querystringParser: () => NO_QUERY,
    });
    if (options.compile ?? true) this.#fmw.compile();
  }

  /**
   * Registers `value` for `method` (upper-cased) and `path`. Throws RouteDefinitionError for a
   * duplicate (same method and path up to parameter names), bad syntax, or a method find-my-way
   * does not know (its list is Node's `http.METHODS`).
   */
  add(method: string, path: string, value: T): void {
    const upper = method.toUpperCase();
    const { pattern, paramNames, wildcardName } = toFindMyWayPattern(path);
    const where = `${upper} ${JSON.stringify(path)}`;
    let duplicate: boolean;
    try {
      duplicate = this.#fmw.findRoute(upper as FindMyWayMethod, pattern) !== null;
    } catch (error) {
      throw new RouteDefinitionError(where, (error as Error).message, error);
    }
    if (duplicate) {
      throw new RouteDefinitionError(where, "already registered (same method and path, up to parameter names)");
    }
    const entry: Entry<T> = {
      value,
      paramNames,
      renameWildcardTo: wildcardName === null || wildcardName === "*" ? null : wildcardName,
    };
    try {
      this.#fmw.on(upper as FindMyWayMethod, pattern, noop, entry);
    } catch (error) {
      // find-my-way asserts on unknown methods and re-checks duplicates; keep its message as the reason.
      throw new RouteDefinitionError(where, (error as Error).message, error);
    }
    if (!this.#methods.includes(upper)) {
      this.#methods.push(upper);
      this.#methods.sort();
    }
  }

  /** Finds the route for a decoded path; see the {@link Router} contract. */
  lookup(method: string, path: string): RouteLookup<T> {
    // A path that is not absolute (`*` of `OPTIONS *`, or empty) matches nothing; find-my-way would
    // read it as an absolute URL.
    if (path.charCodeAt(0) !== 47 /* / */) return NOT_FOUND;
    const escaped = escapeLookupPath(path);
    const hit = this.#fmw.find(method as FindMyWayMethod, escaped);
    if (hit !== null) {
      const entry = hit.store as Entry<T>;
      const params = hit.params as Record<string, string>;
      if (entry.paramNames.length === 0 || hasNoEmptyParam(entry, params)) {
        const rename = entry.renameWildcardTo;
        if (rename !== null) {
          params[rename] = params["*"]!;
          delete params["*"];
        }
        return { kind: "found", value: entry.value, params };
      }
    }
    return this.#miss(method, escaped);
  }

  /** The miss path: which other methods know this path? */
  #miss(method: string, escaped: string): RouteLookup<T> {
    let allowed: string[] | null = null;
    for (const other of this.#methods) {
      if (other === method) continue;
      const hit = this.#fmw.find(other as FindMyWayMethod, escaped);
      if (hit === null) continue;
      const entry = hit.store as Entry<T>;
      if (entry.paramNames.length !== 0 && !hasNoEmptyParam(entry, hit.params as Record<string, string>)) continue;
      (allowed ??= []).push(other);
    }
    // #methods is sorted, so `allowed` is too.
    return allowed === null ? NOT_FOUND : { kind: "method-not-allowed", allowed };
  }
}

function hasNoEmptyParam(entry: Entry<unknown>, params: Record<string, string>): boolean {
  const names = entry.paramNames;
  for (let i = 0; i < names.length; i++) {
    if (params[names[i]!] === "") return false;
  }
  return true;
}
