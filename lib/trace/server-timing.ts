/**
 * The `Server-Timing` header of a traced response (W3C Server Timing,
 * https://www.w3.org/TR/server-timing/): one metric per layer the request went through, in the
 * layers' order, then `total`:
 *
 *     Server-Timing: middleware;dur=0.041;desc="requestId,accessLog,cors,compression",
 *       router;dur=0.006;desc="GET /books/{id}", di;dur=0.030;desc="resolved", validation;dur=0.012;desc="path ok",
 *       handler;dur=0.051;desc="getBook", serializer;dur=0.009;desc="response schema, 61 bytes", total;dur=0.210
 *
 * `dur` is in milliseconds (the spec's unit) with microsecond precision. The header goes on the
 * response start, so it can only hold what happened before the start: a middleware's time is its
 * time so far (its work after the response is not in it), and the body events, sent after the
 * start, are not in it at all (they are in the trace record). A layer the request never reached
 * (the router for a request a middleware answered, DI for a route without dependencies) has no
 * metric.
 *
 * @module
 */
import type { TraceLayer, TraceRecord, TraceSpan } from "./trace-record.js";

/** The metric names, in the order they appear (the layers' order of DESIGN.md). */
export const SERVER_TIMING_METRICS = ["middleware", "router", "di", "validation", "handler", "serializer", "total"] as const;

/** Milliseconds with three decimals (µs precision), never negative. */
export function formatDuration(ms: number): string {
  return Math.max(0, ms).toFixed(3);
}

/** A quoted-string (RFC 9110 §5.6.4) holding `text`, printable ASCII only. */
export function quotedString(text: string): string {
  return `"${text.replace(/[^\x20-\x7e]/g, "?").replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** How long `span` ran up to `now` (a running span counts until `now`); a middleware's own time only. */
export function spanTime(span: TraceSpan, now: number): number {
  const end = Math.min(span.end ?? now, now);
  let time = end - span.start;
  if (span.innerStart !== undefined) time -= Math.min(span.innerEnd ?? now, now) - span.innerStart;
  return Math.max(0, time);
}

function describeLayer(layer: TraceLayer, spans: readonly TraceSpan[], record: TraceRecord): string {
  const failed = spans.some((span) => span.error !== undefined);
  switch (layer) {
    case "middleware":
      return spans.map((span) => span.name).join(",");
    case "router":
      return record.route !== undefined ? `${record.route.method} ${record.route.template}` : "no match";
    case "di":
      return failed ? "failed" : "resolved";
    case "validation": {
      const ok = spans.every((span) => span.detail === "ok");
      return `${spans.map((span) => span.name).join(",")} ${ok ? "ok" : "failed"}`;
    }
    case "handler":
      return failed ? `${spans[0]!.name} threw` : spans[0]!.name;
    default:
      return failed ? "failed" : (spans[spans.length - 1]!.detail ?? "");
  }
}

/** The header's value for `record` at time `now` (when the response start is being sent). */
export function serverTimingValue(record: TraceRecord, now: number): string {
  const metrics: string[] = [];
  for (const layer of SERVER_TIMING_METRICS) {
    if (layer === "total") continue;
    const spans = record.spans.filter((span) => span.layer === layer && span.start <= now);
    if (spans.length === 0) continue;
    const time = spans.reduce((sum, span) => sum + spanTime(span, now), 0);
    metrics.push(`${layer};dur=${formatDuration(time)};desc=${quotedString(describeLayer(layer, spans, record))}`);
  }
  metrics.push(`total;dur=${formatDuration(now - record.start)};desc="to response start"`);
  return metrics.join(", ");
}
