/**
 * The `trace` option of `App`: off by default. When on, the app builds an instrumented pipeline
 * (traced-pipeline.ts) instead of the plain one; when off, nothing of this folder is in the
 * request path.
 *
 * @module
 */
import type { TraceRecord } from "./trace-record.js";

/** What `new App({ trace })` accepts beyond `true`. */
export interface TraceOptions {
  /**
   * Add a `Server-Timing` header (W3C Server Timing) with each layer's duration to every HTTP
   * response start. Default true. Only what happened before the start can be in it: body events
   * sent afterwards are in the record, not in the header.
   */
  serverTiming?: boolean;
  /**
   * Called with each request's record once the app has returned (after the last body event, or
   * after it failed). Runs in the request's task: keep it short. An error it throws is logged and
   * never reaches the client.
   */
  onTrace?: (record: TraceRecord) => void;
  /** The clock, in milliseconds; default `performance.now`. Injected by tests. */
  clock?: () => number;
}

/** {@link TraceOptions} with the defaults filled in. */
export interface ResolvedTraceOptions {
  readonly serverTiming: boolean;
  readonly onTrace: ((record: TraceRecord) => void) | undefined;
  readonly clock: () => number;
}

/** Resolves the `trace` option: `undefined` when tracing is off (false, undefined). */
export function resolveTraceOptions(option: boolean | TraceOptions | undefined): ResolvedTraceOptions | undefined {
  if (option === undefined || option === false) return undefined;
  const options = option === true ? {} : option;
  return {
    serverTiming: options.serverTiming ?? true,
    onTrace: options.onTrace,
    clock: options.clock ?? (() => performance.now()),
  };
}
