/**
 * The master's control socket: a Unix socket on which it answers `laminar status`. A client
 * connects, the master writes one JSON line ({@link MasterStatus}) and closes. Read-only: nothing
 * sent to the socket changes the supervisor (signals do that), so the socket's file mode is the
 * only thing that guards it, and it is created 0600.
 *
 * @module
 */
import { connect, createServer, type Server } from "node:net";
import { chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SupervisorStatus } from "./arbiter.js";

/** What the master answers on its control socket. */
export interface MasterStatus extends SupervisorStatus {
  master: {
    pid: number;
    uptimeMs: number;
    /** The app target, as `laminar serve` was given it. */
    target: string;
    server: string;
    /** The URL the workers listen on, once one has said so. */
    url: string | undefined;
  };
}

/** File name prefix of the default sockets, which `laminar status` looks for in the temp directory. */
export const CONTROL_SOCKET_PREFIX = "laminar-";

/** `<tmpdir>/laminar-<pid>.sock`: the default control socket of the master with that pid. */
export function defaultControlSocket(pid: number = process.pid): string {
  return join(tmpdir(), `${CONTROL_SOCKET_PREFIX}${pid}.sock`);
}

/** True when something answers on the socket (a live master); false when nothing listens (a stale file). */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** A listening control socket; `close()` stops it and removes the file. */
export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Listens on `path` and answers every connection with `status()` as one JSON line. A stale file at
 * `path` (left by a master that was killed) is replaced; a live one is an error, so two masters
 * never share a socket.
 */
export async function openControlSocket(path: string, status: () => MasterStatus): Promise<ControlSocket> {
  if (await socketIsLive(path)) throw new Error(`control socket ${path} is in use by another laminar master`);
  rmSync(path, { force: true });
  const server: Server = createServer((socket) => {
    socket.on("error", () => {});
    socket.end(`${JSON.stringify(status())}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Status names the app, its workers and their requests: for this user only.
  chmodSync(path, 0o600);
  server.unref();
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
      }),
  };
}
