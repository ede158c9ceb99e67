/**
 * The uWS peer: a bare uWebSockets.js server doing by hand what `bare-node-http.ts` does on
 * node:http — the four workloads with the same checks (`hand-checks.ts`) and the same dependency
 * work by hand (`deps-work.ts`). `POST /items` checks the content type, reads the whole body
 * (`onData`, with `onAborted` attached), caps it at 1 MiB and parses JSON.
 *
 * It copies each body chunk as laminar's uWS adapter must (uWS neuters the ArrayBuffer after the
 * callback; a bare server could parse the last chunk in place, laminar cannot), and corks its
 * writes as the adapter does: the gap to laminar is then the framework's own work, not a shortcut
 * the framework cannot take. The copy goes into node's Buffer pool (`allocUnsafe` + `set`) rather
 * than `chunk.slice(0)`, whose fresh ArrayBuffer costs about 1 µs more per chunk: that is what a
 * careful hand-written server does, and laminar can do it too.
 *
 * Start: `PORT=3003 node dist/bench/apps/bare-uws.js`.
 *
 * @module
 */
import type { HttpResponse } from "uWebSockets.js";
import { loadUws } from "../../layers/server/uws-load.js";
import { createItem, itemEcho, type HandAnswer } from "./hand-checks.js";
import { depsByHand } from "./deps-work.js";

const uws = loadUws();
const MAX_BODY = 1024 * 1024;
const STATUS: Record<number, string> = { 200: "200 OK", 201: "201 Created", 404: "404 Not Found", 415: "415 Unsupported Media Type", 422: "422 Unprocessable Entity" };

/** One corked write of status, content type and body; uWS adds content-length. */
function send(res: HttpResponse, status: number, body: string): void {
  res.cork(() => {
    res.writeStatus(STATUS[status]!).writeHeader("content-type", "application/json").end(body);
  });
}

function answer(res: HttpResponse, result: HandAnswer): void {
  send(res, result.status, result.body);
}

const app = uws.App();
app.get("/hello", (res) => {
  send(res, 200, JSON.stringify({ message: "hello" }));
});
app.get("/items/:id", (res, req) => {
  // getParameter is still percent-encoded; getQuery decodes.
  answer(res, itemEcho(decodeURIComponent(req.getParameter(0) ?? ""), req.getQuery("q")));
});
app.get("/deps", (res) => {
  send(res, 200, JSON.stringify(depsByHand()));
});
app.post("/items", (res, req) => {
  // The request object is only valid during this call: read the header now.
  if (!req.getHeader("content-type").startsWith("application/json")) {
    return send(res, 415, '{"detail":"Unsupported Media Type"}');
  }
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const chunks: Buffer[] = [];
  let size = 0;
  res.onData((chunk, isLast) => {
    if (aborted) return;
    size += chunk.byteLength;
    if (size > MAX_BODY) {
      aborted = true;
      res.close();
      return;
    }
    // uWS neuters `chunk` when this callback returns: copy it (small copies come from the pool).
    const copy = Buffer.allocUnsafe(chunk.byteLength);
    copy.set(new Uint8Array(chunk));
    chunks.push(copy);
    if (isLast) answer(res, createItem(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  });
});
app.any("/*", (res) => {
  send(res, 404, '{"detail":"Not Found"}');
});
app.listen("127.0.0.1", Number(process.env.PORT ?? 3003), (socket) => {
  if (socket === false) throw new Error("bare-uws: could not listen");
  process.send?.("ready");
});
