/**
 * The four benchmark workloads declared on a laminar `App`, shared by the node:http and the uWS
 * app so that both serve exactly the same routes through all eight layers:
 *
 * - `GET /hello`: no schema, so `JSON.stringify` (laminar's path for a route without one);
 * - `GET /items/:id?q=`: params and query validated (the id coerced to an integer);
 * - `POST /items`: the body validated, the 201 serialized by the `Item` response schema;
 * - `GET /deps`: a request-scoped service (`RequestLog`) and a function dependency
 *   (`currentUser`) with a sub-dependency (`settings`), resolved by the DI layer.
 *
 * @module
 */
import type { App } from "../../lib/app.js";
import { dependency } from "../../layers/di/dependency.js";
import { Item, ItemCreate, ItemParams, ItemQuery } from "./items-schema.js";
import { RequestLog, currentUser, depsAnswer, settings } from "./deps-work.js";

const settingsDep = dependency({ name: "settings" }, () => settings());
const userDep = dependency({ name: "currentUser", deps: { config: settingsDep } }, ({ deps }) => currentUser(deps.config));

/** Declares the benchmark's routes on `app` and returns it. */
export function declareBenchRoutes(app: App): App {
  let nextId = 1;
  app.provide(RequestLog, "request");
  app.get("/hello", () => ({ message: "hello" }));
  app.get("/items/{id}", { params: ItemParams, query: ItemQuery }, ({ params, query }) => ({ id: params.id, q: query.q ?? null }));
  app.post("/items", { body: ItemCreate, response: { 201: Item }, status: 201 }, ({ body }) => ({ ...body, id: nextId++ }));
  app.get("/deps", { deps: { user: userDep, log: RequestLog } }, ({ deps }) => depsAnswer(deps.user, deps.log));
  return app;
}

