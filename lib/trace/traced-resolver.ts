/**
 * Layer 5, traced: a {@link DependencyResolver} decorator. At compile time it describes each
 * route's dependency graph (which nodes, in which order, and how each is shared); per traced
 * request it times the graph's resolution and records that description with the outcome.
 *
 * "Cached" means what FastAPI's `use_cache` means, plus the container's lifetimes: a function
 * dependency with `cache: true` declared twice in one graph runs once and the second declarer
 * reuses its value; a singleton class is built once per app and reused by every request; a
 * request-scoped class once per request; a transient one at every use.
 *
 * The description is made from the graph as declared: an override (`app.override`) is resolved
 * but still shown under the declared name.
 *
 * @module
 */
import type { CompiledDependencies, DependencyResolver, Lifetime, RequestInputs, Resolution } from "../../layers/di/resolver.js";
import { isFunctionDependency, type Constructor, type DependencyMap, type DependencyToken } from "../../layers/di/dependency.js";
import { describeError } from "./trace-record.js";
import type { Tracer } from "./tracer.js";

/** One node of a described graph, in resolution order. */
export interface DependencyNodeInfo {
  /** The name it is declared under (the route's `deps` key, or a function dependency's own key). */
  readonly declaredAs: string;
  /** The dependency's name: a function dependency's `name`, a class's name. */
  readonly name: string;
  readonly kind: "function" | "class";
  /**
   * How its value is shared: `"reused"` (a cached function dependency already resolved in this
   * request), `"per request"` (cached function dependency, first use), `"every use"` (`cache: false`),
   * or a class's lifetime; `"unregistered"` for a class the container builds per use.
   */
  readonly sharing: "reused" | "per request" | "every use" | Lifetime | "unregistered";
}

/** Walks a dependency map as the planner does (depth first, post-order) and describes its nodes. */
export function describeGraph(deps: DependencyMap, lifetimeOf: (token: Constructor<unknown>) => Lifetime | undefined): DependencyNodeInfo[] {
  const nodes: DependencyNodeInfo[] = [];
  const seen = new Set<unknown>();
  const walking = new Set<unknown>();
  const visit = (token: DependencyToken<unknown>, declaredAs: string): void => {
    if (isFunctionDependency(token)) {
      if (token.cache && seen.has(token)) {
        nodes.push({ declaredAs, name: token.name, kind: "function", sharing: "reused" });
        return;
      }
      if (walking.has(token)) return; // a cycle: the real compile has already rejected it
      walking.add(token);
      for (const [name, sub] of Object.entries(token.deps)) visit(sub as DependencyToken<unknown>, name);
      walking.delete(token);
      seen.add(token);
      nodes.push({ declaredAs, name: token.name, kind: "function", sharing: token.cache ? "per request" : "every use" });
      return;
    }
    const cls = token as Constructor<unknown>;
    nodes.push({ declaredAs, name: cls.name || "anonymous class", kind: "class", sharing: lifetimeOf(cls) ?? "unregistered" });
  };
  for (const [name, token] of Object.entries(deps)) visit(token, name.startsWith("\0") ? "(effect)" : name);
  return nodes;
}

/** `name ← Dependency (sharing)` for each node, comma-separated: the span's detail. */
export function graphText(nodes: readonly DependencyNodeInfo[]): string {
  return nodes
    .map((node) => {
      const label = node.declaredAs === node.name ? node.name : `${node.declaredAs} ← ${node.name}`;
      const sharing = node.sharing === "reused" ? "cached: reused" : node.sharing === "singleton" ? "singleton: cached" : node.sharing;
      return `${label} (${node.kind === "class" ? "class, " : ""}${sharing})`;
    })
    .join(", ");
}

/** Wraps `resolver`: graphs it compiles record a `di` span per traced request; the rest is delegated. */
export function tracedResolver(tracer: Tracer, resolver: DependencyResolver): DependencyResolver {
  const lifetimeOf = (token: Constructor<unknown>): Lifetime | undefined => resolver.lifetimeOf?.(token);
  return {
    compile(deps: DependencyMap): CompiledDependencies | null {
      const compiled = resolver.compile(deps);
      if (compiled === null) return null;
      // Described lazily, at the first traced request: a class registered after the route still shows its lifetime.
      let text: string | undefined;
      return {
        inputs: compiled.inputs,
        resolve(inputs: RequestInputs): Promise<Resolution> {
          const record = tracer.current();
          if (record === undefined) return compiled.resolve(inputs);
          text ??= graphText(describeGraph(deps, lifetimeOf));
          const span = tracer.open(record, "di", "resolve");
          span.detail = text;
          return compiled.resolve(inputs).then(
            (resolution) => {
              span.end = tracer.clock();
              return resolution;
            },
            (error: unknown) => {
              span.end = tracer.clock();
              span.error = describeError(error);
              throw error;
            },
          );
        },
      };
    },
    register: (token, lifetime) => resolver.register(token, lifetime),
    registerValue: (token, value) => resolver.registerValue(token, value),
    override: (token, replacement) => resolver.override(token, replacement),
    lifetimeOf,
  };
}
