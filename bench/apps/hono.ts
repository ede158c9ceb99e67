/**
 * Hono 4 on node:http (`@hono/node-server`) serving the benchmark's four workloads. Hono has no
 * schema layer of its own (its validators are separate packages), so it does the same checks as
 * the bare servers (`hand-checks.ts`: ajv from the shared schemas, fast-json-stringify for the
 * 201), with Hono's `bodyLimit` at 1 MiB and the content type checked; `GET /deps` does the
 * dependency work by hand (`deps-work.ts`).
 *
 * Start: `PORT=3005 node dist/bench/apps/hono.js`.
 *
 * @module
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { serve } from "@hono/node-server";
import { createParsedItem, itemEcho, type HandAnswer } from "./hand-checks.js";
import { depsByHand } from "./deps-work.js";

function answer(c: Context, result: HandAnswer): Response {
  return c.body(result.body, result.status as 200, { "content-type": "application/json" });
}

const app = new Hono();
app.get("/hello", (c) => c.json({ message: "hello" }));
app.get("/items/:id", (c) => answer(c, itemEcho(c.req.param("id"), c.req.query("q"))));
app.post("/items", bodyLimit({ maxSize: 1024 * 1024 }), async (c) => {
  if (!(c.req.header("content-type") ?? "").startsWith("application/json")) {
    return c.json({ detail: "Unsupported Media Type" }, 415);
  }
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    return c.json({ detail: "JSON decode error" }, 422);
  }
  return answer(c, createParsedItem(value));
});
app.get("/deps", (c) => c.json(depsByHand()));

serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 3005) }, () => process.send?.("ready"));
