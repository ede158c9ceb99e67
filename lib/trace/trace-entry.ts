/**
 * The traced pipeline's outermost layer: where a request's trace starts and ends.
 *
 * For an HTTP request it copies what the adapter built (the scope, at the moment the app gets
 * it: the trace's zero), makes the record current for everything the request runs, and wraps
 * `send` so that each event sent back to the server is a span (`http.response.start`, every
 * `http.response.body`), timed until the server took it. When the header is on, the response
 * start gets `Server-Timing` here, outside every middleware, so it sees their time too.
 *
 * WebSocket and lifespan scopes pass through untouched.
 *
 * @module
 */
import type { App, HttpScope, Send, SendEvent } from "../../layers/adapter/events.js";
import { SENT } from "../../layers/adapter/events.js";
import type { Logger } from "../logger.js";
import { serverTimingValue } from "./server-timing.js";
import { describeError, TRACE_KEY, type ScopeSummary, type TraceRecord } from "./trace-record.js";
import type { Tracer } from "./tracer.js";

/** Wraps the pipeline `app` in the layer that starts, feeds and finishes each request's record. */
export function traceEntry(tracer: Tracer, app: App, logger: Logger): App {
  const { serverTiming, onTrace } = tracer.options;
  return function traceLayer(scope, receive, send) {
    if (scope.type !== "http") return app(scope, receive, send);
    const extensions = (scope.extensions ??= {});
    const outer = extensions[TRACE_KEY] as TraceRecord | undefined;
    // A traced app mounted in a traced app: one record, one header, kept by the outer one.
    if (outer !== undefined) return tracer.run(outer, () => app(scope, receive, send));
    const record: TraceRecord = { scope: summarize(scope), start: tracer.clock(), spans: [], depth: 0 };
    extensions[TRACE_KEY] = record;
    const finish = (error?: unknown): void => {
      record.end = tracer.clock();
      if (error !== undefined) record.error = describeError(error);
      if (onTrace === undefined) return;
      try {
        onTrace(record);
      } catch (thrown) {
        logger.error({ err: thrown }, "error in the trace option's onTrace");
      }
    };
    let result: Promise<void>;
    try {
      result = tracer.run(record, () => app(scope, receive, tracedSend(tracer, record, send, serverTiming)));
    } catch (error) {
      finish(error);
      throw error;
    }
    return result.then(
      () => finish(),
      (error: unknown) => {
        finish(error ?? new Error("rejected with undefined"));
        throw error;
      },
    );
  };
}

/** What the adapter built, copied (headers too: a middleware may replace entries later). */
function summarize(scope: HttpScope): ScopeSummary {
  return {
    method: scope.method,
    path: scope.path,
    rawPath: scope.rawPath,
    queryString: scope.queryString,
    headers: scope.headers.map(([name, value]) => [name, value]),
    httpVersion: scope.httpVersion,
    scheme: scope.scheme,
    client: scope.client,
    server: scope.server,
    rootPath: scope.rootPath,
  };
}

/** `send`, with each event a `send` span and (when on) `Server-Timing` added to the response start. */
function tracedSend(tracer: Tracer, record: TraceRecord, send: Send, serverTiming: boolean): Send {
  return (event: SendEvent) => {
    if (event.type === "http.response.start") {
      record.status = event.status;
      if (serverTiming) {
        const value = serverTimingValue(record, tracer.clock());
        record.serverTiming = value;
        // A new list: the app's may be shared (a frozen constant, a cached response).
        event = { ...event, headers: [...event.headers, ["server-timing", value]] };
      }
    }
    const span = tracer.open(record, "send", event.type);
    span.detail = eventText(event);
    let sent: Promise<void>;
    try {
      sent = send(event);
    } catch (error) {
      span.end = tracer.clock();
      span.error = describeError(error);
      throw error;
    }
    // Keep the server's synchronous-acceptance hint: the compiled route sends the body at once on SENT.
    if (sent === SENT) {
      span.end = tracer.clock();
      return SENT;
    }
    return sent.then(
      () => {
        span.end = tracer.clock();
      },
      (error: unknown) => {
        span.end = tracer.clock();
        span.error = describeError(error);
        throw error;
      },
    );
  };
}

/** One line about an event: status and header count, or body size and whether more follows. */
function eventText(event: SendEvent): string {
  if (event.type === "http.response.start") return `${event.status}, ${event.headers.length} headers`;
  if (event.type === "http.response.body") {
    const size = event.body === undefined ? 0 : typeof event.body === "string" ? Buffer.byteLength(event.body) : event.body.byteLength;
    return `${size} bytes${event.moreBody === true ? ", more to come" : ", last"}`;
  }
  return event.type;
}
