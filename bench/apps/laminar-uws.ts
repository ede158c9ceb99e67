/**
 * laminar on uWebSockets.js serving the same two routes as `bare-node-http.ts`, through all eight layers.
 *
 * Start: `PORT=3002 node dist/bench/apps/laminar-uws.js`.
 *
 * @module
 */
import { App } from "../../lib/app.js";
import { silentLogger } from "../../lib/logger.js";
import { Item, ItemCreate } from "./items-schema.js";

let nextId = 1;
const app = new App({ logger: silentLogger, server: "uws" });
app.get("/hello", () => ({ message: "hello" }));
app.post("/items", { body: ItemCreate, response: { 201: Item }, status: 201 }, ({ body }) => ({ ...body, id: nextId++ }));

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3002) });
process.send?.("ready");
