/**
 * The bookstore as the throughput app: served through `laminar serve` from its compiled factory
 * (`dist/examples/bookstore/app.js:createBookstore`, a function export the CLI calls), on a fresh
 * database seeded through its own API, so what is measured is a read a real client makes
 * (`GET /books?limit=20`: the router, query validation, DI, the store, the serializer).
 *
 * Every worker gets the same environment: one token key (a token signed by one worker is accepted
 * by the others), no embedded task worker (the bench measures HTTP, not the report queue), and
 * the store: `DATABASE_URL` is always set (a SQLite file in a temporary directory, or the PostgreSQL
 * URL given), so a `DATABASE_URL` in the caller's environment cannot switch stores behind its back.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { repoRoot } from "../workloads.js";

/** The `laminar serve` target. */
export const BOOKSTORE_TARGET = join(repoRoot, "dist/examples/bookstore/app.js") + ":createBookstore";

/** The measured request. */
export const BOOK_LIST_PATH = "/books?limit=20";

const USER = "bench";
const PASSWORD = "bench-password";

/** The environment for a bookstore whose files live in `dir` and whose store is `databaseUrl` (default: SQLite in `dir`). */
export function bookstoreEnv(dir: string, databaseUrl = `sqlite://${join(dir, "bookstore.db")}`): Record<string, string> {
  return {
    BOOKSTORE_DB: join(dir, "bookstore.db"),
    BOOKSTORE_TASKS_URL: `sqlite://${join(dir, "tasks.db")}`,
    BOOKSTORE_EMBEDDED_WORKER: "0",
    BOOKSTORE_TOKEN_KEY: randomBytes(32).toString("hex"),
    BOOKSTORE_DEMO_USER: `${USER}:${PASSWORD}`,
    DATABASE_URL: databaseUrl,
  };
}

async function call(baseUrl: string, path: string, init: RequestInit, want: number): Promise<unknown> {
  const response = await fetch(baseUrl + path, init);
  const text = await response.text();
  if (response.status !== want) throw new Error(`seeding the bookstore: ${init.method ?? "GET"} ${path} answered ${response.status}, not ${want}: ${text.slice(0, 300)}`);
  return text === "" ? undefined : JSON.parse(text);
}

/**
 * Logs in and creates one author and `books` books, unless the store already lists that many.
 *
 * @throws when the bookstore refuses (a broken store must not be benchmarked)
 */
export async function seedBookstore(baseUrl: string, books = 20): Promise<void> {
  const listed = (await call(baseUrl, `/books?limit=${books}`, {}, 200)) as unknown[];
  if (listed.length >= books) return;
  const form = new URLSearchParams({ grant_type: "password", username: USER, password: PASSWORD });
  const token = (await call(baseUrl, "/token", { method: "POST", body: form }, 200)) as { access_token: string };
  const headers = { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" };
  const author = (await call(baseUrl, "/authors", { method: "POST", headers, body: JSON.stringify({ name: "Ursula K. Le Guin" }) }, 201)) as { id: number };
  for (let i = listed.length; i < books; i++) {
    const body = JSON.stringify({ title: `Book ${i + 1}`, authorId: author.id, price: 10 + i, tags: ["bench", `n${i}`] });
    await call(baseUrl, "/books", { method: "POST", headers, body }, 201);
  }
}
