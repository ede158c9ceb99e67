/**
 * Test helpers for server and adapter tests: tiny apps written straight against the event
 * interface, a deferred, and a logger that remembers what it was told.
 *
 * @module
 */
import type { App, HttpScope, ReceiveEvent } from "../../../layers/adapter/events.js";
import type { Logger } from "../../../lib/logger.js";

/** A promise with its resolve exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Creates a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One captured log call. */
export interface LogEntry {
  level: "error" | "warn" | "info" | "debug";
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A logger that stores every call in `entries`. */
export function capturingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const make =
    (level: LogEntry["level"]) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { entries, error: make("error"), warn: make("warn"), info: make("info"), debug: make("debug") };
}

/** Reads the whole body through `receive()`; null if the client disconnected first. */
export async function readBody(receive: () => Promise<ReceiveEvent>): Promise<Buffer | null> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const event = await receive();
    if (event.type !== "http.request") return null;
    parts.push(event.body);
    if (!event.moreBody) return Buffer.concat(parts);
  }
}

/**
 * Answers every request with JSON describing it: method, paths, query, version, the body (its
 * length and first 200 bytes), the `x-echo` header values joined, and the peer addresses.
 */
export const echoApp: App = async (scope, receive, send) => {
  if (scope.type !== "http") return;
  const body = await readBody(receive);
  if (body === null) return;
  const s: HttpScope = scope;
  const echo = s.headers.filter(([name]) => name === "x-echo").map(([, value]) => value);
  const payload = JSON.stringify({
    method: s.method,
    path: s.path,
    rawPath: s.rawPath,
    queryString: s.queryString,
    httpVersion: s.httpVersion,
    scheme: s.scheme,
    rootPath: s.rootPath,
    bodyLength: body.length,
    body: body.subarray(0, 200).toString("utf8"),
    echo: echo.join(", "),
    client: s.client,
    server: s.server,
    headers: s.headers,
    state: s.state,
  });
  await send({ type: "http.response.start", status: 200, headers: [["content-type", "application/json"]] });
  await send({ type: "http.response.body", body: payload });
};
