/**
 * Layer 3, traced: the middleware fold of the traced pipeline. Each middleware's app is wrapped on
 * both sides: when it is entered (its span opens), when it calls the next app and when that call
 * settles (the span's `innerStart`/`innerEnd`), and when it returns (the span closes). What is
 * left is the middleware's own time, before and after the rest of the chain.
 *
 * A middleware that returns the next app itself (an access log with info off, `trustedHost("*")`)
 * is not in the request path, so it gets no span either.
 *
 * @module
 */
import type { App } from "../../layers/adapter/events.js";
import type { Middleware } from "../../layers/middleware/middleware.js";
import { describeError, type TraceSpan } from "./trace-record.js";
import type { Tracer } from "./tracer.js";

/** The shape of `compose` (layers/middleware/middleware.ts), which the traced one replaces. */
export type Compose = (middleware: readonly Middleware[], app: App) => App;

/** A middleware's display name: its app's function name without the `Layer` suffix (`requestIdLayer` → `requestId`). */
export function middlewareName(app: App, middleware: Middleware, index: number): string {
  const name = app.name !== "" ? app.name : middleware.name;
  if (name === "" || name === "anonymous") return `middleware#${index}`;
  return name.endsWith("Layer") && name.length > 5 ? name.slice(0, -5) : name;
}

/** The traced `compose`: same order and onion as the plain one, every layer timed. */
export function tracedCompose(tracer: Tracer): Compose {
  return (middleware, app) =>
    middleware.reduceRight<App>((next, wrap, index) => {
      const spans: TraceSpan[] = [];
      const inner = wrap(enterNext(tracer, next, spans));
      // The middleware handed back what it was given: it does nothing for any request.
      if (inner === next || (inner as TracedNext)[NEXT_OF] === next) return next;
      return enterMiddleware(tracer, inner, middlewareName(inner, wrap, index), spans);
    }, app);
}

const NEXT_OF = Symbol("laminar.trace.nextOf");
type TracedNext = App & { [NEXT_OF]?: App };

/**
 * The app a middleware gets as `next`: marks its span's inner part. `open` holds the spans of this
 * middleware that have not called next yet, per request: the newest one whose request is current.
 */
function enterNext(tracer: Tracer, next: App, open: TraceSpan[]): App {
  const traced: TracedNext = (scope, receive, send) => {
    const record = tracer.current();
    const span = record === undefined ? undefined : takeOpen(open, record.spans);
    if (record === undefined || span === undefined) return next(scope, receive, send);
    span.innerStart = tracer.clock();
    record.depth++;
    const done = (): void => {
      span.innerEnd = tracer.clock();
      record.depth--;
    };
    let result: Promise<void>;
    try {
      result = next(scope, receive, send);
    } catch (error) {
      done();
      throw error;
    }
    return result.then(done, (error: unknown) => {
      done();
      throw error;
    });
  };
  traced[NEXT_OF] = next;
  return traced;
}

/** Removes and returns the span in `open` that belongs to `spans` (the current request's). */
function takeOpen(open: TraceSpan[], spans: readonly TraceSpan[]): TraceSpan | undefined {
  for (let i = open.length - 1; i >= 0; i--) {
    const span = open[i]!;
    if (spans.includes(span)) {
      open.splice(i, 1);
      return span;
    }
  }
  return undefined;
}

/** The middleware's app, timed from its call to its settling. */
function enterMiddleware(tracer: Tracer, app: App, name: string, open: TraceSpan[]): App {
  return (scope, receive, send) => {
    const record = tracer.current();
    if (record === undefined) return app(scope, receive, send);
    const span = tracer.open(record, "middleware", name);
    open.push(span);
    const close = (error?: unknown): void => {
      span.end = tracer.clock();
      if (error !== undefined) span.error = describeError(error);
      // It answered without calling next (an early response, a refused preflight).
      const index = open.indexOf(span);
      if (index !== -1) open.splice(index, 1);
    };
    let result: Promise<void>;
    try {
      result = app(scope, receive, send);
    } catch (error) {
      close(error);
      throw error;
    }
    return result.then(
      () => close(),
      (error: unknown) => {
        close(error ?? new Error("rejected with undefined"));
        throw error;
      },
    );
  };
}
