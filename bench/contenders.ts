/**
 * The contenders: one server file each in `bench/apps/`, started with `PORT` in the environment.
 * The Node ones run from their compiled file (`dist/bench/apps/*.js`); FastAPI runs on Uvicorn
 * with uvloop and httptools, from `/usr/bin/python3`, and is skipped (with the reason) when that
 * Python cannot import fastapi and uvicorn.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./workloads.js";

/** One server to measure. */
export interface Contender {
  /** Short name, used by `--only` and in results. */
  readonly id: string;
  /** Label in tables and charts. */
  readonly label: string;
  /** Which laminar build it is, or undefined for a peer. */
  readonly laminar?: "node" | "uws";
  /** The command that starts it on `port` (before pinning). */
  command(port: number): { file: string; args: string[] };
  /** Why it cannot run on this machine, or undefined when it can. */
  unavailable?(): string | undefined;
}

const PYTHON = "/usr/bin/python3";

function nodeApp(id: string, label: string, file: string, laminar?: "node" | "uws"): Contender {
  return {
    id,
    label,
    laminar,
    command: () => ({ file: process.execPath, args: [join(repoRoot, "dist/bench/apps", file)] }),
  };
}

let uwsProblem: string | undefined | null = null;
function uwsUnavailable(): string | undefined {
  if (uwsProblem === null) {
    try {
      execFileSync(process.execPath, ["-e", "require('uWebSockets.js')"], { cwd: repoRoot, stdio: "pipe" });
      uwsProblem = undefined;
    } catch (error) {
      uwsProblem = `uWebSockets.js does not load: ${String((error as { stderr?: Buffer }).stderr ?? error).split("\n")[0]}`;
    }
  }
  return uwsProblem;
}

/** Every contender, in report order: laminar first, then the bare servers, the frameworks, FastAPI. */
export const CONTENDERS: readonly Contender[] = [
  nodeApp("laminar-node", "laminar node:http", "laminar-node-http.js", "node"),
  { ...nodeApp("laminar-uws", "laminar uWS", "laminar-uws.js", "uws"), unavailable: uwsUnavailable },
  nodeApp("bare-node", "bare node:http", "bare-node-http.js"),
  { ...nodeApp("bare-uws", "bare uWS", "bare-uws.js"), unavailable: uwsUnavailable },
  nodeApp("fastify", "Fastify", "fastify.js"),
  nodeApp("hono", "Hono (node-server)", "hono.js"),
  nodeApp("express", "Express 5", "express.js"),
  {
    id: "fastapi",
    label: "FastAPI+Uvicorn",
    command: (port) => ({
      file: PYTHON,
      args: [
        ...["-m", "uvicorn", "fastapi_app:app", "--app-dir", join(repoRoot, "bench/apps")],
        ...["--host", "127.0.0.1", "--port", String(port), "--no-access-log", "--log-level", "warning"],
        ...["--loop", "uvloop", "--http", "httptools", "--workers", "1"],
      ],
    }),
    unavailable: () => {
      try {
        execFileSync(PYTHON, ["-c", "import fastapi, uvicorn, uvloop, httptools"], { stdio: "pipe" });
        return undefined;
      } catch (error) {
        const reason = String((error as { stderr?: Buffer }).stderr ?? error).trim().split("\n").pop();
        return `${PYTHON} cannot import fastapi, uvicorn, uvloop and httptools (${reason}); install Debian's python3-fastapi python3-uvicorn python3-uvloop python3-httptools`;
      }
    },
  },
];

/**
 * The contenders `--only` names (all when `only` is undefined), in report order.
 *
 * @throws when a name matches no contender
 */
export function selectContenders(only: readonly string[] | undefined, all: readonly Contender[] = CONTENDERS): Contender[] {
  if (only === undefined) return [...all];
  const unknown = only.filter((id) => !all.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`unknown contender(s) ${unknown.join(", ")}; known: ${all.map((c) => c.id).join(", ")}`);
  return all.filter((c) => only.includes(c.id));
}
