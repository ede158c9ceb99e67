/**
 * The per-pipeline tracing state: the clock, and the request whose record is current.
 *
 * Most instrumented steps see the scope (middleware, the DI resolver, the handler) but the
 * compiled checks of the validator, the compiled serializer and the router's `lookup` do not: they
 * are called with a value or a path. They find the current request's record through an
 * `AsyncLocalStorage` entered by the traced pipeline's outermost layer. It is created only when a
 * traced pipeline is built: an untraced process never enables async context tracking for it.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ResolvedTraceOptions } from "./trace-options.js";
import type { TraceLayer, TraceRecord, TraceSpan } from "./trace-record.js";

/** The shared state of one traced pipeline. */
export class Tracer {
  readonly clock: () => number;
  readonly options: ResolvedTraceOptions;
  readonly #storage = new AsyncLocalStorage<TraceRecord>();

  constructor(options: ResolvedTraceOptions) {
    this.options = options;
    this.clock = options.clock;
  }

  /** The record of the request being served in this async context, if it is traced. */
  current(): TraceRecord | undefined {
    return this.#storage.getStore();
  }

  /** Runs `fn` with `record` current (for everything it starts, synchronously or not). */
  run<R>(record: TraceRecord, fn: () => R): R {
    return this.#storage.run(record, fn);
  }

  /** Opens a span on `record`, now. */
  open(record: TraceRecord, layer: TraceLayer, name: string): TraceSpan {
    const span: TraceSpan = { layer, name, start: this.clock(), depth: record.depth };
    record.spans.push(span);
    return span;
  }
}
