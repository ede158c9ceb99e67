/**
 * The peer: a bare node:http server doing by hand what the laminar app does through its layers —
 * the four workloads (`GET /hello`, `GET /items/:id?q=`, `POST /items`, `GET /deps`), with the
 * same checks (`hand-checks.ts`: ajv from the same schemas, fast-json-stringify for the 201) and
 * the same dependency work by hand (`deps-work.ts`). `POST /items` checks the content type, reads
 * the body with a 1 MiB cap and parses JSON.
 *
 * Start: `PORT=3001 node dist/bench/apps/bare-node-http.js`.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createItem, itemEcho, type HandAnswer } from "./hand-checks.js";
import { depsByHand } from "./deps-work.js";

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function answer(res: ServerResponse, result: HandAnswer): void {
  send(res, result.status, result.body);
}

function postItem(req: IncomingMessage, res: ServerResponse): void {
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return send(res, 415, '{"detail":"Unsupported Media Type"}');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > 1024 * 1024) req.destroy();
    else chunks.push(chunk);
  });
  req.on("end", () => answer(res, createItem(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))));
}

/** `/items/<id>[?q=…]`: the id segment and the decoded `q`. */
function getItem(res: ServerResponse, url: string): void {
  const mark = url.indexOf("?");
  const id = decodeURIComponent(url.slice("/items/".length, mark === -1 ? undefined : mark));
  const q = mark === -1 ? undefined : (new URLSearchParams(url.slice(mark + 1)).get("q") ?? undefined);
  if (id === "" || id.includes("/")) return send(res, 404, '{"detail":"Not Found"}');
  answer(res, itemEcho(id, q));
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (req.method === "GET") {
    if (url === "/hello") return send(res, 200, JSON.stringify({ message: "hello" }));
    if (url.startsWith("/items/")) return getItem(res, url);
    if (url === "/deps") return send(res, 200, JSON.stringify(depsByHand()));
  } else if (req.method === "POST" && url === "/items") {
    return postItem(req, res);
  }
  send(res, 404, '{"detail":"Not Found"}');
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT ?? 3001), "127.0.0.1", () => process.send?.("ready"));
