/**
 * The four workloads every contender serves, as the load generator requests them.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from `bench/` or `dist/bench/`. */
export const repoRoot = here.replace(/[\\/]dist[\\/]bench$/, "").replace(/[\\/]bench$/, "");

/** The valid `POST /items` body the load generator sends (`bench/wrk/post-items.lua`): one unknown field, dropped on output. */
export const ITEM_BODY = '{"name":"pen","price":1.5,"tags":["office","blue"],"unknown":"dropped"}';

/** One measured request shape. */
export interface Workload {
  /** Label in tables, charts and result files. */
  readonly name: string;
  readonly method: "GET" | "POST";
  /** Path and query the generator requests. */
  readonly path: string;
  /** JSON body for a POST. */
  readonly body?: string;
  /** wrk script that sets method, headers and body (POST only). */
  readonly wrkScript?: string;
}

/** The workloads, in report order. */
export const WORKLOADS: readonly Workload[] = [
  { name: "GET /hello", method: "GET", path: "/hello" },
  { name: "GET /items/:id", method: "GET", path: "/items/42?q=hello" },
  { name: "POST /items", method: "POST", path: "/items", body: ITEM_BODY, wrkScript: join(repoRoot, "bench/wrk/post-items.lua") },
  { name: "GET /deps", method: "GET", path: "/deps" },
];
