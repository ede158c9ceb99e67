/**
 * Express 5 serving the benchmark's four workloads. Express has no schema layer, so it does the
 * same checks as the bare servers (`hand-checks.ts`: ajv from the shared schemas,
 * fast-json-stringify for the 201) after `express.json()` (1 MiB limit, content type checked, a
 * parse error answered 422 by the error handler); `GET /deps` does the dependency work by hand
 * (`deps-work.ts`). `x-powered-by` and ETags are off: the others send neither.
 *
 * Start: `PORT=3006 node dist/bench/apps/express.js`.
 *
 * @module
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { createParsedItem, itemEcho, type HandAnswer } from "./hand-checks.js";
import { depsByHand } from "./deps-work.js";

function answer(res: Response, result: HandAnswer): void {
  res.status(result.status).type("application/json").send(result.body);
}

const app = express();
app.disable("x-powered-by");
app.disable("etag");
app.get("/hello", (_req, res) => {
  res.json({ message: "hello" });
});
app.get("/items/:id", (req, res) => {
  const q = req.query.q;
  answer(res, itemEcho(req.params.id, typeof q === "string" ? q : undefined));
});
app.post("/items", express.json({ limit: "1mb" }), (req, res) => {
  // express.json() leaves the body undefined when the content type is not JSON.
  if (!req.is("application/json")) return answer(res, { status: 415, body: '{"detail":"Unsupported Media Type"}' });
  answer(res, createParsedItem(req.body));
});
app.get("/deps", (_req, res) => {
  res.json(depsByHand());
});
app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
  const status = error.status === 413 ? 413 : 422;
  answer(res, { status, body: JSON.stringify({ detail: error.message }) });
});

const server = app.listen(Number(process.env.PORT ?? 3006), "127.0.0.1", () => process.send?.("ready"));
server.keepAliveTimeout = 5000;
