/**
 * Layer 7, traced: route declarations whose handler is timed. A synchronous handler stays
 * synchronous (the compiled route keeps its no-await path), an async one is timed until its
 * promise settles.
 *
 * @module
 */
import type { RouteDeclaration } from "../../layers/handler/route-definition.js";
import { describeError } from "./trace-record.js";
import type { Tracer } from "./tracer.js";

/** A copy of `route` whose handler records a `handler` span for a traced request. */
export function tracedRoute(tracer: Tracer, route: RouteDeclaration): RouteDeclaration {
  const handler = route.handler;
  const name = handler.name !== "" ? handler.name : `${route.methods.join(",")} ${route.path}`;
  const traced = ((ctx: Parameters<typeof handler>[0]) => {
    const record = tracer.current();
    if (record === undefined) return handler(ctx);
    const span = tracer.open(record, "handler", name);
    let result: unknown;
    try {
      result = handler(ctx);
    } catch (error) {
      span.end = tracer.clock();
      span.error = describeError(error);
      throw error;
    }
    // Native promises only, as the compiled route awaits only those.
    if (!(result instanceof Promise)) {
      span.end = tracer.clock();
      return result;
    }
    return result.then(
      (value: unknown) => {
        span.end = tracer.clock();
        return value;
      },
      (error: unknown) => {
        span.end = tracer.clock();
        span.error = describeError(error);
        throw error;
      },
    );
  }) as typeof handler;
  return { ...route, handler: traced };
}
