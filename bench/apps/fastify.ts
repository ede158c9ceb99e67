/**
 * Fastify 5 on node:http serving the same two routes as the laminar apps: `GET /hello` (no
 * response schema, so `JSON.stringify`, as laminar does for a route without one) and `POST /items`
 * with a body schema (Fastify's ajv) and a 201 response schema (fast-json-stringify, which drops
 * the unknown field). Logging is off, as in the laminar apps.
 *
 * Start: `PORT=3004 node dist/bench/apps/fastify.js`.
 *
 * @module
 */
import Fastify from "fastify";
import { Item, ItemCreate } from "./items-schema.js";

let nextId = 1;
const app = Fastify({ logger: false });
app.get("/hello", async () => ({ message: "hello" }));
app.post(
  "/items",
  { schema: { body: ItemCreate, response: { 201: Item } } },
  async (request, reply) => {
    reply.code(201);
    return { ...(request.body as object), id: nextId++ };
  },
);

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3004) });
process.send?.("ready");
