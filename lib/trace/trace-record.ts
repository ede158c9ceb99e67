/**
 * The lifecycle trace of one request: what each layer did and when, recorded by the traced
 * pipeline (see traced-pipeline.ts) and read by the `Server-Timing` header, the `onTrace` callback
 * and the `laminar trace` waterfall.
 *
 * Times are the trace clock's milliseconds (`performance.now()` by default, sub-microsecond
 * resolution); every span is on the same clock as {@link TraceRecord.start}, so offsets are
 * `span.start - record.start`. A span still running has `end === undefined`.
 *
 * The record lives in `scope.extensions` (as the request ID and the after-response tasks do), so a
 * handler, a middleware or a mounted app reads it with {@link traceOf}; an untraced request has none.
 *
 * @module
 */
import type { Address, HeaderList, Scope } from "../../layers/adapter/events.js";

/** The layers a span belongs to, numbered as in DESIGN.md (1 server and 2 adapter have no spans: see {@link TraceRecord.scope}). */
export type TraceLayer = "middleware" | "router" | "di" | "validation" | "handler" | "serializer" | "send";

/** The layer numbers of DESIGN.md's table, for display. */
export const LAYER_NUMBER: Readonly<Record<TraceLayer, number>> = Object.freeze({
  send: 2,
  middleware: 3,
  router: 4,
  di: 5,
  validation: 6,
  handler: 7,
  serializer: 8,
});

/** One timed step of one layer. */
export interface TraceSpan {
  readonly layer: TraceLayer;
  /** What ran: a middleware's name, `lookup`, a request part, the handler's name, an event type. */
  readonly name: string;
  readonly start: number;
  end?: number;
  /**
   * Middleware only: when it called the next app, and when that call settled. Its own time is
   * `(end - start) - (innerEnd - innerStart)`.
   */
  innerStart?: number;
  innerEnd?: number;
  /** How many middleware were wrapped around this step when it started (for indentation). */
  readonly depth: number;
  /** A one-line, human-readable outcome: `GET /books/{id} {"id":"1"}`, `ok`, `2 issues`. */
  detail?: string;
  /** The error this step threw (its name and message), when it threw. */
  error?: string;
}

/** The route the router matched. */
export interface TracedRoute {
  readonly method: string;
  /** The path template as declared (`/books/{id}`). */
  readonly template: string;
  readonly params: Readonly<Record<string, string>>;
}

/** What the adapter built, as handed to the app (a copy: the scope itself is mutable and may be large). */
export interface ScopeSummary {
  readonly method: string;
  readonly path: string;
  readonly rawPath: string;
  readonly queryString: string;
  readonly headers: HeaderList;
  readonly httpVersion: string;
  readonly scheme: string;
  readonly client: Address | null;
  readonly server: Address | null;
  readonly rootPath: string;
}

/** The whole trace of one HTTP request. */
export interface TraceRecord {
  /** The scope as the adapter handed it to the app. */
  readonly scope: ScopeSummary;
  /** When the app got the scope (the trace's zero). */
  readonly start: number;
  /** When the app returned (the last body event was sent, or it failed). */
  end?: number;
  /** Every step, in the order they started. */
  readonly spans: TraceSpan[];
  /** Set when a route matched. */
  route?: TracedRoute;
  /** The status sent in `http.response.start`, when one was sent. */
  status?: number;
  /** The error that escaped the app, when one did (the server then answers 500 or closes). */
  error?: string;
  /** The `Server-Timing` value added to the response start, when the header is on. */
  serverTiming?: string;
  /** How many middleware are currently wrapped around the running step (the traced compose keeps it). */
  depth: number;
}

/** The `scope.extensions` key of the record. */
export const TRACE_KEY = "laminar.trace";

/**
 * The trace record of the request `scope` belongs to, or undefined when tracing is off (or the
 * scope is not an HTTP request).
 *
 * @example
 * app.get("/slow", ({ scope }) => {
 *   const trace = traceOf(scope); // the spans so far: middleware, router, validation…
 *   return { steps: trace?.spans.length ?? 0 };
 * });
 */
export function traceOf(scope: Scope): TraceRecord | undefined {
  if (scope.type !== "http") return undefined;
  return scope.extensions?.[TRACE_KEY] as TraceRecord | undefined;
}

/** A short, single-line description of a thrown value (never its stack: records may be logged or shown). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message === "" ? error.name : `${error.name}: ${error.message}`;
  return String(error);
}
