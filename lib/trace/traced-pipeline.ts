/**
 * The traced pipeline: the same layers in the same order as `buildPipeline` (lib/pipeline.ts),
 * built from instrumented parts. The plain pipeline has no trace code in it at all: the `App`
 * builds this one instead when its `trace` option is on, so tracing costs nothing when it is off.
 *
 * What is instrumented, from the outside of each layer:
 * - the adapter's scope: copied when the app gets it (trace-entry.ts), with the events sent back;
 * - 3 middleware: the fold wraps each one (traced-compose.ts), the error and exception layers too;
 * - 4 router: a Router decorator times `lookup` and records the template and params (traced-router.ts);
 * - 5 DI: a resolver decorator times each graph's `resolve` (traced-resolver.ts);
 * - 6 validation: a validator decorator times each compiled check (traced-validator.ts);
 * - 7 handler: each route's handler is wrapped (traced-handler.ts);
 * - 8 serializer: a serializer decorator times each compiled `serialize` (traced-serializer.ts).
 *
 * @module
 */
import type { App as EventApp } from "../../layers/adapter/events.js";
import { buildPipeline, type PipelineParts } from "../pipeline.js";
import type { ResolvedTraceOptions } from "./trace-options.js";
import { Tracer } from "./tracer.js";
import { tracedCompose } from "./traced-compose.js";
import { tracedRouter } from "./traced-router.js";
import { tracedResolver } from "./traced-resolver.js";
import { tracedValidator } from "./traced-validator.js";
import { tracedSerializer } from "./traced-serializer.js";
import { tracedRoute } from "./traced-handler.js";
import { traceEntry } from "./trace-entry.js";

/** Builds the pipeline of `parts` with every layer recording into each request's trace. */
export function buildTracedPipeline(parts: PipelineParts, options: ResolvedTraceOptions): EventApp {
  const tracer = new Tracer(options);
  const pipeline = buildPipeline({
    ...parts,
    routes: parts.routes.map((route) => tracedRoute(tracer, route)),
    createRouter: () => tracedRouter(tracer, parts.createRouter()),
    compile: {
      ...parts.compile,
      validator: tracedValidator(tracer, parts.compile.validator),
      serializer: tracedSerializer(tracer, parts.compile.serializer),
      resolver: tracedResolver(tracer, parts.compile.resolver),
    },
    compose: tracedCompose(tracer),
  });
  return traceEntry(tracer, pipeline, parts.logger);
}
