/**
 * The peer: a bare node:http server doing by hand what the laminar app does through its layers —
 * `GET /hello`, and `POST /items` reading the body, checking the content type, parsing JSON,
 * validating with the same ajv schema and serializing with the same fast-json-stringify schema.
 *
 * Start: `PORT=3001 node dist/bench/apps/bare-node-http.js`.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Ajv } from "ajv";
import fastJson from "fast-json-stringify";
import { Item, ItemCreate } from "./items-schema.js";

const validate = new Ajv({ allErrors: true }).compile(ItemCreate);
const serialize = fastJson(Item);
let nextId = 1;

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function createItem(req: IncomingMessage, res: ServerResponse): void {
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return send(res, 415, '{"detail":"Unsupported Media Type"}');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > 1024 * 1024) req.destroy();
    else chunks.push(chunk);
  });
  req.on("end", () => {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return send(res, 422, '{"detail":"JSON decode error"}');
    }
    if (!validate(value)) return send(res, 422, JSON.stringify({ detail: validate.errors }));
    send(res, 201, serialize({ ...(value as object), id: nextId++ }));
  });
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/hello") return send(res, 200, JSON.stringify({ message: "hello" }));
  if (req.method === "POST" && req.url === "/items") return createItem(req, res);
  send(res, 404, '{"detail":"Not Found"}');
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT ?? 3001), "127.0.0.1", () => process.send?.("ready"));
