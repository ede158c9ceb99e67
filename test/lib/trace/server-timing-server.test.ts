/**
 * The trace over real sockets, on both connection servers: the Server-Timing header arrives on the
 * wire and parses per the spec; WebSocket sessions are untouched by the traced pipeline; a client
 * that leaves mid-request still ends in a record and does not break the next request; with the
 * trace off, no header. The uWS half is skipped where uWebSockets.js cannot load.
 */
import t from "tap";
import { request } from "undici";
import { WebSocket } from "ws";
import { once } from "node:events";
import { Type } from "@sinclair/typebox";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { requestId } from "../../../layers/middleware/request-id.js";
import type { TraceRecord } from "../../../lib/trace/trace-record.js";
import { parseServerTiming } from "./parse-server-timing.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

/** Waits (bounded) until `predicate` holds. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const server of ["node", "uws"] as const) {
  t.test(`Server-Timing and WebSocket on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const records: TraceRecord[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let slowEntered = false;
    const app = new App({
      logger: silentLogger,
      server,
      trace: { onTrace: (record) => records.push(record) },
      async *lifespan() {
        yield { started: true };
      },
    });
    app.use(requestId());
    app.get("/items/{id}", { params: Type.Object({ id: Type.Integer() }) }, function getItem({ params, scope }) {
      return { id: params.id, started: scope.state.started };
    });
    app.get("/slow", async function slow() {
      slowEntered = true;
      await gate;
      return { late: true };
    });
    app.websocket("/ws", async ({ ws }) => {
      await ws.accept();
      await ws.sendText(`echo ${await ws.receiveText()}`);
      await ws.close(4001);
    });
    const { url, port } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    const res = await request(`${url}/items/3?x=1`);
    t.equal(res.statusCode, 200);
    t.same(await res.body.json(), { id: 3, started: true }, "lifespan state reaches the traced request");
    const header = res.headers["server-timing"];
    t.type(header, "string");
    const metrics = parseServerTiming(header as string);
    t.same(metrics.map((m) => m.name), ["middleware", "router", "validation", "handler", "serializer", "total"]);
    for (const metric of metrics) t.ok(Number(metric.params.dur) >= 0 && /^\d+\.\d{3}$/.test(metric.params.dur!), `${metric.name} dur`);
    t.equal(metrics[1]!.params.desc, "GET /items/{id}");
    t.equal(records.at(-1)!.scope.client?.[0], "127.0.0.1", "the record has the scope the adapter built");
    t.equal(records.at(-1)!.scope.queryString, "x=1");

    const missing = await request(`${url}/nope`);
    t.equal(missing.statusCode, 404);
    await missing.body.dump();
    t.same(parseServerTiming(missing.headers["server-timing"] as string).map((m) => m.name), ["middleware", "router", "total"]);

    const invalid = await request(`${url}/items/x`);
    t.equal(invalid.statusCode, 422);
    await invalid.body.dump();
    t.match(invalid.headers["server-timing"], /validation;dur=[\d.]+;desc="path failed"/);

    // WebSocket through the traced pipeline: untouched, and no trace record.
    const before = records.length;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await once(ws, "open");
    ws.send("hello");
    const [data] = (await once(ws, "message")) as [Buffer];
    t.equal(data.toString(), "echo hello");
    const [code] = (await once(ws, "close")) as [number];
    t.equal(code, 4001);
    t.equal(records.length, before, "no record for a WebSocket session");

    // A client that leaves mid-request: the request still ends in a record, and the next one is traced.
    const controller = new AbortController();
    const aborted = request(`${url}/slow`, { signal: controller.signal }).catch((error: unknown) => error);
    await until(() => slowEntered, "the slow request to reach its handler");
    controller.abort();
    t.ok((await aborted) instanceof Error, "the client gave up");
    release();
    await until(() => records.length === before + 1, "the abandoned request's record");
    t.equal(records.at(-1)!.route?.template, "/slow");
    const after = await request(`${url}/items/4`);
    t.equal(after.statusCode, 200);
    await after.body.dump();
    t.match(after.headers["server-timing"], /^middleware;dur=/);
  });

  t.test(`trace off on ${server}: no Server-Timing`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const app = new App({ logger: silentLogger, server });
    app.get("/x", () => ({ ok: true }));
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));
    const res = await request(`${url}/x`);
    t.equal(res.statusCode, 200);
    await res.body.dump();
    t.equal(res.headers["server-timing"], undefined);
  });
}
