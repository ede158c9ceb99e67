/**
 * The text waterfall `laminar trace` prints: one request's walk through the layers, one row per
 * step, each with its offset from the moment the app got the scope, its duration in µs and a bar
 * on a shared time axis. Middleware have two rows, entered and left, so the onion shows: they are
 * entered in order before the router and left in reverse after the events were sent.
 *
 * @module
 */
import type { HeaderList } from "../../layers/adapter/events.js";
import { LAYER_NUMBER, type TraceLayer, type TraceRecord, type TraceSpan } from "./trace-record.js";
import { spanTime } from "./server-timing.js";

/** The response as the client got it. */
export interface TracedResponse {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: Uint8Array;
}

/** Options of {@link formatTrace}. */
export interface WaterfallOptions {
  /** Columns of the bar. Default 32. */
  barWidth?: number;
  /** Characters of the body shown before it is cut. Default 2000. */
  maxBody?: number;
}

const LAYER_LABEL: Readonly<Record<TraceLayer, string>> = {
  send: "events",
  middleware: "middleware",
  router: "router",
  di: "DI",
  validation: "validator",
  handler: "handler",
  serializer: "serializer",
};

interface Row {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly layer: TraceLayer;
  readonly depth: number;
  readonly text: string;
}

/** Microseconds with one decimal. */
function us(ms: number): string {
  return (Math.max(0, ms) * 1000).toFixed(1);
}

function address(value: readonly [string, number] | null): string {
  return value === null ? "none" : `${value[0]}:${value[1]}`;
}

/** The rows of a record: a span's row, or a middleware's entered and left rows. */
function rowsOf(record: TraceRecord, end: number): Row[] {
  const rows: Row[] = [];
  for (const span of record.spans) {
    const spanEnd = span.end ?? end;
    const outcome = span.error !== undefined ? `  ✗ ${span.error}` : "";
    if (span.layer === "middleware") {
      const handedOn = span.innerStart ?? spanEnd;
      const back = span.innerEnd ?? spanEnd;
      const passed = span.innerStart !== undefined ? "" : " (answered itself, did not call next)";
      rows.push({ at: span.start, from: span.start, to: handedOn, layer: "middleware", depth: span.depth, text: `→ ${span.name} entered${passed}` });
      rows.push({
        at: back,
        from: back,
        to: spanEnd,
        layer: "middleware",
        depth: span.depth,
        text: `← ${span.name} left (next returned here; own time ${us(spanTime(span, end))} of ${us(spanEnd - span.start)} µs)${outcome}`,
      });
      continue;
    }
    rows.push({ at: span.start, from: span.start, to: spanEnd, layer: span.layer, depth: span.depth, text: stepText(span) + outcome });
  }
  // Stable: rows that start together keep the order they were recorded in.
  return rows.sort((a, b) => a.at - b.at);
}

function stepText(span: TraceSpan): string {
  const detail = span.detail !== undefined ? ` ${span.detail}` : "";
  switch (span.layer) {
    case "router":
      return `match${detail}`;
    case "validation":
      return `${span.name}:${detail}`;
    case "di":
      return `resolve graph:${detail === "" ? " (empty)" : detail}`;
    case "handler":
      return `${span.name}()`;
    case "serializer":
      return `serialize:${detail}`;
    default:
      return `${span.name}${detail === "" ? "" : ` (${detail.trim()})`}`;
  }
}

function bar(row: Row, zero: number, total: number, width: number): string {
  const scale = total > 0 ? width / total : 0;
  // Rounded, not floored/ceiled: clock values are floats, and 7.9999 µs should not take a column more.
  const from = Math.min(width - 1, Math.round((row.from - zero) * scale));
  const to = Math.min(width, Math.max(from + 1, Math.round((row.to - zero) * scale)));
  return `|${" ".repeat(from)}${"=".repeat(to - from)}${" ".repeat(width - to)}|`;
}

function bodyText(body: Uint8Array, headers: HeaderList, max: number): string[] {
  if (body.byteLength === 0) return ["(empty)"];
  const encoded = headers.some(([name, value]) => name === "content-encoding" && value !== "identity");
  const text = Buffer.from(body).toString("utf8");
  if (encoded || text.includes("\uFFFD")) return [`(${body.byteLength} bytes, binary${encoded ? ", content-encoded" : ""})`];
  const shown = text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
  return shown.split("\n");
}

/**
 * The waterfall of `record`, then the response. Pure: the same record gives the same text.
 *
 * @example
 * process.stdout.write(formatTrace(record, { status: 200, headers, body }));
 */
export function formatTrace(record: TraceRecord, response?: TracedResponse, options: WaterfallOptions = {}): string {
  const width = options.barWidth ?? 32;
  const end = record.end ?? Math.max(record.start, ...record.spans.map((span) => span.end ?? span.start));
  const total = end - record.start;
  const { scope } = record;
  const target = scope.queryString === "" ? scope.rawPath : `${scope.rawPath}?${scope.queryString}`;
  const lines: string[] = [];
  const status = record.status ?? response?.status;
  lines.push(`${scope.method} ${target} → ${status ?? "no response"} in ${us(total)} µs${record.error !== undefined ? `  ✗ ${record.error}` : ""}`);
  lines.push("");
  lines.push("1-2 server + adapter: the scope, as handed to the app at +0 µs");
  lines.push(`      http/${scope.httpVersion} ${scope.method} path=${scope.path} rawPath=${scope.rawPath} query=${JSON.stringify(scope.queryString)}`);
  lines.push(`      scheme=${scope.scheme} rootPath=${JSON.stringify(scope.rootPath)} client=${address(scope.client)} server=${address(scope.server)}`);
  for (const [name, value] of scope.headers) lines.push(`      ${name}: ${value}`);
  lines.push("");
  lines.push(`${"+µs".padStart(9)} ${"µs".padStart(8)}  ${"layer".padEnd(13)} ${`0 … ${us(total)} µs`.padEnd(width + 2)}  step`);
  for (const row of rowsOf(record, end)) {
    const layer = `${LAYER_NUMBER[row.layer]} ${LAYER_LABEL[row.layer]}`;
    lines.push(
      `${us(row.at - record.start).padStart(9)} ${us(row.to - row.from).padStart(8)}  ${layer.padEnd(13)} ${bar(row, record.start, total, width)}  ${"  ".repeat(row.depth)}${row.text}`,
    );
  }
  lines.push("");
  lines.push(`time by layer (µs): ${layerTotals(record, end)}`);
  if (response !== undefined) {
    lines.push("");
    lines.push(`response ${response.status}`);
    for (const [name, value] of response.headers) lines.push(`      ${name}: ${value}`);
    lines.push(`body (${response.body.byteLength} bytes)`);
    for (const line of bodyText(response.body, response.headers, options.maxBody ?? 2000)) lines.push(`      ${line}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `3 middleware 12.0 · 4 router 1.2 · …`: each layer's own time over the whole request. */
function layerTotals(record: TraceRecord, end: number): string {
  const order: TraceLayer[] = ["middleware", "router", "di", "validation", "handler", "serializer", "send"];
  const parts: string[] = [];
  for (const layer of order) {
    const spans = record.spans.filter((span) => span.layer === layer);
    if (spans.length === 0) continue;
    parts.push(`${LAYER_NUMBER[layer]} ${LAYER_LABEL[layer]} ${us(spans.reduce((sum, span) => sum + spanTime(span, end), 0))}`);
  }
  parts.push(`total ${us(end - record.start)}`);
  return parts.join(" · ");
}
