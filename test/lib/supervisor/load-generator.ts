/**
 * A load generator for the supervisor's real-process tests: `connections` loops, each sending one
 * request at a time to one URL until stopped or `maxMs` elapsed, every request recorded (when it
 * was sent, when its headers and its end arrived, which worker answered, how it failed).
 *
 * Each loop has its own undici `Client`, so a loop is one client of the server:
 * - `keep-alive`: the loop's connection serves request after request, and is reopened after an
 *   error (a browser, a reverse proxy's upstream pool);
 * - `fresh`: every request opens its own connection and closes it after the response
 *   (`connection: close`), so the master (node:cluster) or the kernel (SO_REUSEPORT) picks a
 *   worker for every request.
 *
 * Each record says whether its request went on a connection opened for it or on one an earlier
 * request had used (`connection`): a failure on a reused connection is a request the server lost
 * between two requests of a keep-alive connection.
 *
 * Every request carries `x-load-id: <id>` (unique within the process), so an app can record which
 * requests it accepted. The answering worker's pid is read from the `x-worker-pid` response
 * header, or else from a JSON body's `pid`.
 *
 * @example
 * const load = startLoad({ url: `http://127.0.0.1:${port}/work?ms=20`, connections: 4, mode: "fresh", maxMs: 5_000 });
 * // … kill a worker …
 * const records = await load.stop();
 * t.comment(describeSummary(summarize(records)));
 */
import { Client } from "undici";

/** How a loop connects; see the module's description. */
export type LoadMode = "keep-alive" | "fresh";

/** What {@link startLoad} takes. */
export interface LoadOptions {
  /** `http://127.0.0.1:port/path?query`. */
  url: string;
  /** Concurrent loops (one request in flight each). */
  connections: number;
  mode: LoadMode;
  /** The loops stop sending after this long even if nobody calls `stop()`. */
  maxMs: number;
  /** Per request: how long the headers, then each body chunk, may take. Default 5 s. */
  timeoutMs?: number;
  /** Pause between a loop's requests, to spare the CPU. Default 0. */
  pauseMs?: number;
  /**
   * Pause after a failed request, as a client backing off before it retries; without it a loop
   * facing a closed port would spin through thousands of refused connections. Default 20 ms.
   */
  pauseAfterFailureMs?: number;
}

/** One request: times are `Date.now()` milliseconds. */
export interface RequestRecord {
  /** Its `x-load-id`. */
  id: number;
  mode: LoadMode;
  sentAt: number;
  /** When the response headers arrived; undefined if they never did. */
  headersAt: number | undefined;
  endedAt: number;
  status: number | undefined;
  /** The worker that answered (`x-worker-pid` or the JSON body's `pid`). */
  pid: number | undefined;
  /** Why it failed: undefined for a complete response (any status). */
  error: string | undefined;
  /**
   * `reused`: it was written on a connection that had served an earlier request (a keep-alive
   * loop's); `new`: a connection was opened for it, or the attempt to open one failed.
   */
  connection: "new" | "reused";
}

/** A running load. */
export interface Load {
  /** The requests finished so far. */
  readonly records: readonly RequestRecord[];
  /** Stops sending, waits for the requests in flight (bounded by their timeouts), closes the clients. */
  stop(): Promise<RequestRecord[]>;
  /** Resolves once some finished request satisfies `match`, or with undefined after `ms`. */
  waitFor(match: (record: RequestRecord) => boolean, ms: number): Promise<RequestRecord | undefined>;
}

let nextId = 1;

/** Connections a loop's client opened, and attempts that failed, so far. */
interface ConnectionCounts {
  opened: number;
  failed: number;
}

/** undici's error code (UND_ERR_SOCKET, ECONNRESET, ECONNREFUSED…) and message, without per-request details. */
function describeError(error: unknown, phase: "headers" | "body"): string {
  const err = error as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.cause?.code ?? err.code ?? "no code";
  const message = (err.message ?? String(error)).replace(/\d+/g, "N");
  return `${phase}: ${code}: ${message}`;
}

/** The `pid` of a JSON body such as `/pid`'s, if it has one. */
function pidInJson(body: string): number | undefined {
  try {
    const pid = (JSON.parse(body) as { pid?: unknown }).pid;
    return typeof pid === "number" ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the loops; see {@link LoadOptions}. */
export function startLoad(options: LoadOptions): Load {
  const url = new URL(options.url);
  const timeout = options.timeoutMs ?? 5_000;
  const pause = options.pauseMs ?? 0;
  const pauseAfterFailure = options.pauseAfterFailureMs ?? 20;
  const records: RequestRecord[] = [];
  const listeners = new Set<(record: RequestRecord) => void>();
  let stopped = false;
  const deadline = setTimeout(() => (stopped = true), options.maxMs);

  /** Sends one request and records it; resolves with whether it succeeded. */
  const one = async (client: Client, connections: ConnectionCounts): Promise<boolean> => {
    const id = nextId++;
    const opened = connections.opened;
    const failedToOpen = connections.failed;
    const record: RequestRecord = { id, mode: options.mode, sentAt: Date.now(), headersAt: undefined, endedAt: 0, status: undefined, pid: undefined, error: undefined, connection: "reused" };
    try {
      const response = await client.request({
        method: "GET",
        path: url.pathname + url.search,
        headers: { "x-load-id": String(id) },
        reset: options.mode === "fresh",
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      record.headersAt = Date.now();
      record.status = response.statusCode;
      const header = response.headers["x-worker-pid"];
      if (typeof header === "string") record.pid = Number(header);
      let body: string | undefined;
      try {
        body = await response.body.text();
      } catch (error) {
        record.error = describeError(error, "body");
      }
      if (body !== undefined && record.pid === undefined) record.pid = pidInJson(body);
    } catch (error) {
      record.error = describeError(error, "headers");
    }
    record.endedAt = Date.now();
    // One request at a time per client: a connection opened (or failing to) meanwhile was for this one.
    if (connections.opened !== opened || connections.failed !== failedToOpen) record.connection = "new";
    records.push(record);
    for (const listener of listeners) listener(record);
    return succeeded(record);
  };

  const loop = async (): Promise<void> => {
    const client = new Client(url.origin, { pipelining: 1, connect: { timeout } });
    const connections: ConnectionCounts = { opened: 0, failed: 0 };
    client.on("connect", () => connections.opened++);
    client.on("connectionError", () => connections.failed++);
    try {
      while (!stopped) {
        const wait = (await one(client, connections)) ? pause : Math.max(pause, pauseAfterFailure);
        if (wait > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    } finally {
      await client.destroy();
    }
  };
  const loops = Array.from({ length: options.connections }, loop);

  return {
    records,
    async stop() {
      stopped = true;
      clearTimeout(deadline);
      await Promise.all(loops);
      return records;
    },
    waitFor(match, ms) {
      const found = records.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((done) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          done(undefined);
        }, ms);
        const listener = (record: RequestRecord): void => {
          if (!match(record)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          done(record);
        };
        listeners.add(listener);
      });
    },
  };
}

/** Counts over some records. */
export interface LoadSummary {
  sent: number;
  /** Complete responses with a 2xx status. */
  succeeded: number;
  /** Errors and non-2xx statuses. */
  failed: number;
  /** Failures by reason (`headers: CODE: message`, `body: …`, or `status N`; `[reused connection]` appended when so). */
  errors: Record<string, number>;
  /** Successes by the pid that answered. */
  pids: Record<string, number>;
}

/** Whether a record is a complete 2xx response. */
export function succeeded(record: RequestRecord): boolean {
  return record.error === undefined && record.status !== undefined && record.status >= 200 && record.status < 300;
}

/** Counts `records`. */
export function summarize(records: readonly RequestRecord[]): LoadSummary {
  const summary: LoadSummary = { sent: records.length, succeeded: 0, failed: 0, errors: {}, pids: {} };
  for (const record of records) {
    if (succeeded(record)) {
      summary.succeeded++;
      const pid = String(record.pid);
      summary.pids[pid] = (summary.pids[pid] ?? 0) + 1;
    } else {
      summary.failed++;
      const reason = (record.error ?? `status ${record.status}`) + (record.connection === "reused" ? " [reused connection]" : "");
      summary.errors[reason] = (summary.errors[reason] ?? 0) + 1;
    }
  }
  return summary;
}

/** One line for `t.comment`: `sent 812, succeeded 809, failed 3 (…); by pid {…}`. */
export function describeSummary(summary: LoadSummary): string {
  const errors = Object.entries(summary.errors)
    .map(([reason, count]) => `${count}× ${reason}`)
    .join("; ");
  return `sent ${summary.sent}, succeeded ${summary.succeeded}, failed ${summary.failed}${errors === "" ? "" : ` (${errors})`}; by pid ${JSON.stringify(summary.pids)}`;
}
