/**
 * The waterfall text on a hand-built record (a fixed clock, so the text is exact where it matters):
 * the rows' order and offsets, the middleware entered and left rows, the bars on one axis, errors,
 * and the response body cut, or named as binary.
 */
import t from "tap";
import { formatTrace } from "../../../lib/trace/waterfall.js";
import type { TraceRecord } from "../../../lib/trace/trace-record.js";

const record: TraceRecord = {
  scope: {
    method: "GET",
    path: "/books/1",
    rawPath: "/books/1",
    queryString: "full=1",
    headers: [["host", "example"]],
    httpVersion: "1.1",
    scheme: "http",
    client: ["10.0.0.1", 5000],
    server: null,
    rootPath: "",
  },
  start: 100,
  end: 100.032,
  status: 200,
  depth: 0,
  route: { method: "GET", template: "/books/{id}", params: { id: "1" } },
  spans: [
    { layer: "middleware", name: "error", start: 100.0, innerStart: 100.002, innerEnd: 100.03, end: 100.032, depth: 0 },
    { layer: "router", name: "lookup", start: 100.004, end: 100.006, depth: 1, detail: 'GET /books/1 → /books/{id} {"id":"1"}' },
    { layer: "handler", name: "getBook", start: 100.008, end: 100.016, depth: 1, error: "Error: boom" },
    { layer: "send", name: "http.response.start", start: 100.02, end: 100.021, depth: 1, detail: "500, 1 headers" },
  ],
};

t.test("rows in time order with offsets, durations and bars", async (t) => {
  const text = formatTrace(record, undefined, { barWidth: 16 });
  const lines = text.split("\n");
  t.equal(lines[0], "GET /books/1?full=1 → 200 in 32.0 µs");
  t.match(text, /client=10\.0\.0\.1:5000 server=none/);
  const rows = lines.filter((line) => /^\s+[\d.]+\s+[\d.]+\s+\d /.test(line));
  t.equal(rows.length, 5, "error entered, router, handler, start event, error left");
  t.match(rows[0], /^\s+0\.0\s+2\.0 {2}3 middleware {2}\|==?\s+\| {2}→ error entered$/);
  t.match(rows[1], /4\.0\s+2\.0 {2}4 router .*\| {4}match GET \/books\/1 → \/books\/\{id\}/, "indented inside the middleware");
  t.match(rows[2], /8\.0\s+8\.0 {2}7 handler .*getBook\(\) {2}✗ Error: boom/);
  t.match(rows[3], /20\.0\s+1\.0 {2}2 events .*http\.response\.start \(500, 1 headers\)/);
  t.match(rows[4], /30\.0\s+2\.0 {2}3 middleware .*← error left \(next returned here; own time 4\.0 of 32\.0 µs\)$/);
  // Bars: the handler covers 8..16 µs of 32 on 16 columns → columns 4..8.
  t.match(rows[2], /\| {4}={4} {8}\|/);
  t.match(text, /time by layer \(µs\): 3 middleware 4\.0 · 4 router 2\.0 · 7 handler 8\.0 · 2 events 1\.0 · total 32\.0/);
});

t.test("the response: headers, a long body cut, a binary body named", async (t) => {
  const long = formatTrace(record, { status: 200, headers: [["content-type", "text/plain"]], body: Buffer.from("x".repeat(50)) }, { maxBody: 10 });
  t.match(long, /^response 200$/m);
  t.match(long, /content-type: text\/plain/);
  t.match(long, /body \(50 bytes\)\n {6}x{10}… \(40 more characters\)/);
  const gzip = formatTrace(record, { status: 200, headers: [["content-encoding", "gzip"]], body: Buffer.from([0x1f, 0x8b, 0xff, 0x00]) });
  t.match(gzip, /\(4 bytes, binary, content-encoded\)/);
  const empty = formatTrace({ ...record, end: undefined, error: "TypeError: x" }, { status: 204, headers: [], body: new Uint8Array(0) });
  t.match(empty, /→ 200 in 32\.0 µs {2}✗ TypeError: x/, "without an end, the last span's end closes the trace");
  t.match(empty, /\(empty\)/);
});
