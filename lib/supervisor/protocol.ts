/**
 * The IPC messages between the master and its workers, and the settings both sides must agree on.
 * Every message carries `laminar` as its discriminant, so node:cluster's own internal messages and
 * anything an app sends through `process.send` are told apart.
 *
 * @module
 */

/** The environment variable that carries the {@link ServeConfig} (as JSON) to a worker. */
export const CONFIG_ENV = "LAMINAR_SERVE_CONFIG";

/** The request a worker reported as being served (its oldest in flight) with its last heartbeat. */
export interface ReportedRequest {
  method: string;
  path: string;
  /** How long it had been running when the heartbeat was sent, in milliseconds. */
  runningMs: number;
}

/** Worker → master. */
export type WorkerMessage =
  /**
   * "My event loop is turning"; `request` is the oldest request in flight, if any; `requests` the
   * requests served so far (WebSocket connections count); `rss` the resident memory in bytes.
   */
  | { laminar: "heartbeat"; request?: ReportedRequest; requests?: number; rss?: number }
  /** Listening: the app loaded and its lifespan startup ran. */
  | { laminar: "listening"; url: string }
  /** Why the worker is about to exit with EXIT_APP_LOAD_ERROR or EXIT_WORKER_BOOT_ERROR. */
  | { laminar: "boot-error"; message: string }
  /** Reached its `--max-requests`: asks to be replaced. It keeps serving until the master stops it. */
  | { laminar: "retire"; requests: number };

/** Master → worker. */
export type MasterMessage =
  /** Close gracefully (`app.close({ timeout })`, in milliseconds), then exit 0. */
  { laminar: "stop"; timeout: number };

/** True for a message a laminar worker sent. */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  if (typeof message !== "object" || message === null) return false;
  const kind = (message as { laminar?: unknown }).laminar;
  return kind === "heartbeat" || kind === "listening" || kind === "boot-error" || kind === "retire";
}

/** True for a message the master sent. */
export function isMasterMessage(message: unknown): message is MasterMessage {
  return typeof message === "object" && message !== null && (message as { laminar?: unknown }).laminar === "stop";
}

/**
 * How often a worker sends a heartbeat, in milliseconds: a quarter of the timeout (so a live worker
 * misses three beats before it is suspected), between 100 ms and 2 s.
 */
export function heartbeatInterval(timeoutSeconds: number): number {
  if (timeoutSeconds <= 0) return 2000;
  return Math.min(2000, Math.max(100, (timeoutSeconds * 1000) / 4));
}
