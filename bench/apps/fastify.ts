/**
 * Fastify 5 on node:http serving the benchmark's four workloads with its own schema layer: params
 * and querystring schemas (ajv, coerced), the `POST /items` body schema and a 201 response schema
 * (fast-json-stringify, which drops the unknown field). `GET /hello`, `/items/:id` and `/deps`
 * have no response schema, so `JSON.stringify`, as laminar does for a route without one. Fastify
 * has no DI: `GET /deps` does the dependency work by hand (`deps-work.ts`). Logging is off, as in
 * the laminar apps.
 *
 * Start: `PORT=3004 node dist/bench/apps/fastify.js`.
 *
 * @module
 */
import Fastify from "fastify";
import { Item, ItemCreate, ItemParams, ItemQuery } from "./items-schema.js";
import { depsByHand } from "./deps-work.js";

let nextId = 1;
const app = Fastify({ logger: false });
app.get("/hello", async () => ({ message: "hello" }));
app.get("/items/:id", { schema: { params: ItemParams, querystring: ItemQuery } }, async (request) => {
  const { id } = request.params as { id: number };
  const { q } = request.query as { q?: string };
  return { id, q: q ?? null };
});
app.post("/items", { schema: { body: ItemCreate, response: { 201: Item } } }, async (request, reply) => {
  reply.code(201);
  return { ...(request.body as object), id: nextId++ };
});
app.get("/deps", async () => depsByHand());

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3004) });
process.send?.("ready");
