/**
 * Layer 4, traced: a {@link Router} decorator that times each `lookup` of a traced request and
 * records what matched: the path template as declared, and the parameters. It remembers each
 * value's template when it is added (at startup), so a lookup costs one map read more.
 *
 * @module
 */
import type { Router, RouteLookup } from "../../layers/router/router.js";
import type { Tracer } from "./tracer.js";

/** Wraps `router` so that lookups made for a traced request are recorded. */
export function tracedRouter<T>(tracer: Tracer, router: Router<T>): Router<T> {
  const templates = new Map<T, string>();
  return {
    add(method: string, path: string, value: T): void {
      router.add(method, path, value);
      if (!templates.has(value)) templates.set(value, path);
    },
    lookup(method: string, path: string): RouteLookup<T> {
      const record = tracer.current();
      if (record === undefined) return router.lookup(method, path);
      const span = tracer.open(record, "router", "lookup");
      const result = router.lookup(method, path);
      span.end = tracer.clock();
      if (result.kind === "found") {
        const template = templates.get(result.value) ?? path;
        record.route = { method, template, params: { ...result.params } };
        span.detail = `${method} ${path} → ${template} ${JSON.stringify(result.params)}`;
      } else if (result.kind === "method-not-allowed") {
        span.detail = `${method} ${path} → no ${method} route (allowed: ${result.allowed.join(", ")})`;
      } else {
        span.detail = `${method} ${path} → no route`;
      }
      return result;
    },
  };
}
