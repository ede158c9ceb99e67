/**
 * The HTTP/2 peer: a bare node:http2 server (cleartext h2c, the core stream API) doing by hand what
 * the laminar app does through its layers, for `GET /hello`, `GET /items/:id?q=` and `POST /items`,
 * with the same checks as `bare-node-http.ts` (`hand-checks.ts`). Same settings as laminar's
 * HTTP/2 server where they matter (100 concurrent streams, no push).
 *
 * Start: `PORT=3006 node dist/bench/apps/bare-http2.js`.
 *
 * @module
 */
import { createServer, type ServerHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { createItem, itemEcho, type HandAnswer } from "./hand-checks.js";

function send(stream: ServerHttp2Stream, status: number, body: string): void {
  stream.respond({ ":status": status, "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  stream.end(body);
}

function answer(stream: ServerHttp2Stream, result: HandAnswer): void {
  send(stream, result.status, result.body);
}

function postItem(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  if (!(headers["content-type"] ?? "").startsWith("application/json")) return send(stream, 415, '{"detail":"Unsupported Media Type"}');
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > 1024 * 1024) stream.close();
    else chunks.push(chunk);
  });
  stream.on("end", () => answer(stream, createItem(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))));
}

function getItem(stream: ServerHttp2Stream, url: string): void {
  const mark = url.indexOf("?");
  const id = decodeURIComponent(url.slice("/items/".length, mark === -1 ? undefined : mark));
  const q = mark === -1 ? undefined : (new URLSearchParams(url.slice(mark + 1)).get("q") ?? undefined);
  if (id === "" || id.includes("/")) return send(stream, 404, '{"detail":"Not Found"}');
  answer(stream, itemEcho(id, q));
}

const server = createServer({ settings: { maxConcurrentStreams: 100, enablePush: false } });
server.on("stream", (stream, headers) => {
  stream.on("error", () => {});
  const method = headers[":method"];
  const url = headers[":path"] ?? "/";
  if (method === "GET") {
    if (url === "/hello") return send(stream, 200, JSON.stringify({ message: "hello" }));
    if (url.startsWith("/items/")) return getItem(stream, url);
  } else if (method === "POST" && url === "/items") {
    return postItem(stream, headers);
  }
  send(stream, 404, '{"detail":"Not Found"}');
});
server.listen(Number(process.env.PORT ?? 3006), "127.0.0.1", () => process.send?.("ready"));
