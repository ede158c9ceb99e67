/**
 * The uWS peer: a bare uWebSockets.js server doing by hand what `bare-node-http.ts` does on
 * node:http — `GET /hello`, and `POST /items` checking the content type, reading the whole body
 * (`onData`, with `onAborted` attached), parsing JSON, validating with the same ajv schema (422 on
 * failure) and serializing the 201 with the same fast-json-stringify schema (unknown fields dropped).
 *
 * It copies each body chunk as laminar's uWS adapter must (uWS neuters the ArrayBuffer after the
 * callback; a bare server could parse the last chunk in place, laminar cannot), corks its writes as
 * the adapter does, and caps the body at 1 MiB like the node peer: the gap to laminar is then the
 * framework's own work, not a shortcut the framework cannot take. The copy goes into node's Buffer
 * pool (`allocUnsafe` + `set`) rather than `chunk.slice(0)`, whose fresh ArrayBuffer costs about
 * 1 µs more per chunk: that is what a careful hand-written server does, and laminar can do it too.
 *
 * Start: `PORT=3003 node dist/bench/apps/bare-uws.js`.
 *
 * @module
 */
import { createRequire } from "node:module";
import type * as Uws from "uWebSockets.js";
import type { HttpResponse } from "uWebSockets.js";
import { Ajv } from "ajv";
import fastJson from "fast-json-stringify";
import { Item, ItemCreate } from "./items-schema.js";

// The package is CommonJS (its entry `require`s a per-platform .node file).
const uws = createRequire(import.meta.url)("uWebSockets.js") as typeof Uws;
const validate = new Ajv({ allErrors: true }).compile(ItemCreate);
const serialize = fastJson(Item);
const MAX_BODY = 1024 * 1024;
let nextId = 1;

/** One corked write of status, content type and body; uWS adds content-length. */
function send(res: HttpResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader("content-type", "application/json").end(body);
  });
}

function finishItem(res: HttpResponse, raw: Buffer): void {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    return send(res, "422 Unprocessable Entity", '{"detail":"JSON decode error"}');
  }
  if (!validate(value)) return send(res, "422 Unprocessable Entity", JSON.stringify({ detail: validate.errors }));
  send(res, "201 Created", serialize({ ...(value as object), id: nextId++ }));
}

const app = uws.App();
app.get("/hello", (res) => {
  send(res, "200 OK", JSON.stringify({ message: "hello" }));
});
app.post("/items", (res, req) => {
  // The request object is only valid during this call: read the header now.
  if (!req.getHeader("content-type").startsWith("application/json")) {
    return send(res, "415 Unsupported Media Type", '{"detail":"Unsupported Media Type"}');
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
    if (isLast) finishItem(res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
});
app.any("/*", (res) => {
  send(res, "404 Not Found", '{"detail":"Not Found"}');
});
app.listen("127.0.0.1", Number(process.env.PORT ?? 3003), (socket) => {
  if (socket === false) throw new Error("bare-uws: could not listen");
  process.send?.("ready");
});
