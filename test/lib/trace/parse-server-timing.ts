/**
 * A strict parser of the `Server-Timing` header for the trace tests (W3C Server Timing §3):
 *
 *   Server-Timing = #server-timing-metric
 *   server-timing-metric = metric-name *( OWS ";" OWS server-timing-param )
 *   server-timing-param = server-timing-param-name OWS "=" OWS server-timing-param-value
 *   server-timing-param-value = token / quoted-string
 *
 * It throws on anything else, so a malformed header fails the test that reads it.
 */
export interface Metric {
  name: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/** Parses `value` into its metrics, in order. Throws with the offset of the first bad character. */
export function parseServerTiming(value: string): Metric[] {
  let at = 0;
  const ows = (): void => {
    while (value[at] === " " || value[at] === "\t") at++;
  };
  const token = (what: string): string => {
    const match = TOKEN.exec(value.slice(at));
    if (match === null) throw new Error(`expected ${what} at ${at}: ${JSON.stringify(value.slice(at, at + 20))}`);
    at += match[0].length;
    return match[0];
  };
  const quoted = (): string => {
    at++; // the opening quote
    let text = "";
    for (;;) {
      const c = value[at];
      if (c === undefined) throw new Error("unterminated quoted-string");
      if (c === '"') {
        at++;
        return text;
      }
      if (c === "\\") {
        const next = value[at + 1];
        if (next === undefined) throw new Error("dangling backslash");
        text += next;
        at += 2;
        continue;
      }
      const code = c.charCodeAt(0);
      if (code < 0x20 || code === 0x7f || code > 0xff) throw new Error(`bad character in quoted-string at ${at}`);
      text += c;
      at++;
    }
  };
  const metrics: Metric[] = [];
  for (;;) {
    ows();
    const name = token("a metric name");
    const params: Record<string, string> = {};
    ows();
    while (value[at] === ";") {
      at++;
      ows();
      const param = token("a parameter name").toLowerCase();
      ows();
      if (value[at] !== "=") throw new Error(`expected "=" at ${at}`);
      at++;
      ows();
      params[param] = value[at] === '"' ? quoted() : token("a parameter value");
      ows();
    }
    metrics.push({ name, params });
    if (at === value.length) return metrics;
    if (value[at] !== ",") throw new Error(`expected "," at ${at}: ${JSON.stringify(value.slice(at, at + 20))}`);
    at++;
  }
}
