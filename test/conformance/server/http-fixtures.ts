/**
 * Loader for the request corpus in `test/fixtures/requests/{valid,invalid}/*.http` (gunicorn's
 * `tests/requests/` is the model).
 *
 * File format — front-matter, then the request bytes:
 *
 * ```
 * # status: 200 200                 expected status of each response, in order (required);
 *                                    alternatives separated by " | " (`400 | 200 400`)
 * # limits: {"maxBodySize": 16}      ServerLimits for this case's server (optional)
 * # contains: "path":"/a" | "path":"/b"   substrings expected in the responses' text, in this order
 * # head: true                       responses carry no body (HEAD)
 * POST / HTTP/1.1
 * Host: x
 * ...
 * ```
 *
 * Line endings: files are stored with plain LF; the loader turns every LF into CRLF, so a file
 * reads like the wire. Escapes are applied after that: `\r`, `\n` (a bare CR or LF), `\0`, `\t`,
 * `\xHH` (any byte) and `\\`; `{{repeat:TEXT:N}}` expands to TEXT repeated N times (oversized
 * headers and URLs). The file's final newline is part of the request (so a GET file ends with an
 * empty line); a body without a trailing CRLF needs a file without a final newline.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerLimits } from "../../../layers/server/connection-server.js";

/** One corpus entry. */
export interface HttpFixture {
  /** `valid/get.http` */
  name: string;
  /** The bytes to send. */
  bytes: Buffer;
  /** Acceptable status sequences (usually one), each in response order. */
  status: number[][];
  limits: Partial<ServerLimits>;
  contains: string[];
  head: boolean;
}

/** Loads every `*.http` file of `dir` (sorted by name). */
export function loadFixtures(dir: string, group: string): HttpFixture[] {
  return readdirSync(join(dir, group))
    .filter((f) => f.endsWith(".http"))
    .sort()
    .map((f) => parseFixture(`${group}/${f}`, readFileSync(join(dir, group, f), "latin1")));
}

/** Parses one fixture file's text (read as latin1, so every byte maps to one char). */
export function parseFixture(name: string, text: string): HttpFixture {
  const lines = text.split("\n");
  const meta: Record<string, string> = {};
  let i = 0;
  while (i < lines.length && lines[i].startsWith("#")) {
    const m = /^#\s*([a-z-]+)\s*:\s*(.*)$/.exec(lines[i]);
    if (m === null) throw new Error(`${name}: bad front-matter line ${JSON.stringify(lines[i])}`);
    meta[m[1]] = m[2].trim();
    i++;
  }
  if (meta.status === undefined) throw new Error(`${name}: missing "# status:"`);
  const request = lines.slice(i).join("\n").replace(/\n/g, "\r\n");
  const expanded = request
    .replace(/\{\{repeat:([^:}]*):(\d+)\}\}/g, (_all, what: string, n: string) => what.repeat(Number(n)))
    .replace(/\\(x[0-9a-fA-F]{2}|[rn0t\\])/g, (_all, esc: string) => {
      switch (esc) {
        case "r":
          return "\r";
        case "n":
          return "\n";
        case "0":
          return "\0";
        case "t":
          return "\t";
        case "\\":
          return "\\";
        default:
          return String.fromCharCode(parseInt(esc.slice(1), 16));
      }
    });
  return {
    name,
    bytes: Buffer.from(expanded, "latin1"),
    status: meta.status.split("|").map((alt) => alt.trim().split(/\s+/).map(Number)),
    limits: meta.limits === undefined ? {} : (JSON.parse(meta.limits) as Partial<ServerLimits>),
    contains: meta.contains === undefined ? [] : meta.contains.split(" | ").map((s) => s.trim()),
    head: meta.head === "true",
  };
}
