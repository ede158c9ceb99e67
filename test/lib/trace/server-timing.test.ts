/**
 * The Server-Timing value on hand-built records: hostile descriptions stay one valid header
 * value, running spans count up to the start event only, middleware count their own time only.
 */
import t from "tap";
import { formatDuration, quotedString, serverTimingValue, spanTime } from "../../../lib/trace/server-timing.js";
import type { TraceRecord } from "../../../lib/trace/trace-record.js";
import { parseServerTiming } from "./parse-server-timing.js";

function record(partial: Partial<TraceRecord>): TraceRecord {
  return {
    scope: { method: "GET", path: "/", rawPath: "/", queryString: "", headers: [], httpVersion: "1.1", scheme: "http", client: null, server: null, rootPath: "" },
    start: 0,
    spans: [],
    depth: 0,
    ...partial,
  };
}

t.test("quotedString and formatDuration", async (t) => {
  t.equal(quotedString('a "b" \\ c'), '"a \\"b\\" \\\\ c"');
  t.equal(quotedString("café\r\n\u2028"), '"caf????"', "non-ASCII and control characters never reach the header");
  t.equal(formatDuration(1.23456), "1.235");
  t.equal(formatDuration(-0.5), "0.000", "never negative");
});

t.test("spanTime: a middleware's own time, clipped at now", async (t) => {
  t.equal(spanTime({ layer: "middleware", name: "m", start: 0, end: 10, innerStart: 2, innerEnd: 9, depth: 0 }, 100), 3);
  t.equal(spanTime({ layer: "middleware", name: "m", start: 0, innerStart: 2, depth: 0 }, 5), 2, "inside next until now");
  t.equal(spanTime({ layer: "handler", name: "h", start: 1, depth: 0 }, 4), 3, "a running span counts until now");
  t.equal(spanTime({ layer: "handler", name: "h", start: 1, end: 50, depth: 0 }, 4), 3, "what ends after now is cut at now");
});

t.test("a hostile route template and handler name still make one valid value", async (t) => {
  const value = serverTimingValue(
    record({
      route: { method: "GET", template: '/x/"{id}"\\,;dur=9', params: {} },
      spans: [
        { layer: "router", name: "lookup", start: 1, end: 2, depth: 0 },
        { layer: "handler", name: 'h"; evil=1, total;dur=0', start: 2, end: 4, depth: 0 },
        { layer: "send", name: "http.response.body", start: 9, end: 10, depth: 0 },
      ],
    }),
    5,
  );
  const metrics = parseServerTiming(value);
  t.same(metrics.map((m) => m.name), ["router", "handler", "total"], "body events after the start are not in it");
  t.equal(metrics[0]!.params.desc, 'GET /x/"{id}"\\,;dur=9');
  t.equal(metrics[1]!.params.desc, 'h"; evil=1, total;dur=0');
  t.equal(metrics[2]!.params.dur, "5.000");
});
