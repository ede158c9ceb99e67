/**
 * Small request bodies on UwsServer are collected before the app runs (like node:http's
 * pre-read): the app's first `receive()` is a `receivedNow` promise holding the whole body, so a
 * JSON route can answer inside uWS's `onData`. Larger, chunked and abandoned bodies keep their
 * old paths. Skipped when uWebSockets.js cannot load.
 */
import t from "tap";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { request } from "undici";
import { UwsServer } from "../../../layers/server/uws-server.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { silentLogger } from "../../../lib/logger.js";
import { eventReceivedNow, type App, type ReceiveEvent } from "../../../layers/adapter/events.js";

let available = true;
try {
  loadUws();
} catch {
  available = false;
}

interface Seen {
  inHand: boolean;
  events: Array<{ bytes: number; more: boolean }>;
}

/** Reads the whole body, recording whether the first event was in hand, and echoes its length. */
function recorder(seen: Seen[]): App {
  return async (scope, receive, send) => {
    if (scope.type !== "http") return;
    const record: Seen = { inHand: false, events: [] };
    seen.push(record);
    let first: Promise<ReceiveEvent> | undefined = receive();
    record.inHand = eventReceivedNow(first) !== undefined;
    let total = 0;
    for (;;) {
      const event = await (first ?? receive());
      first = undefined;
      if (event.type !== "http.request") break;
      record.events.push({ bytes: event.body.byteLength, more: event.moreBody === true });
      total += event.body.byteLength;
      if (event.moreBody !== true) break;
    }
    await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain"]] });
    await send({ type: "http.response.body", body: Buffer.from(String(total)) });
  };
}

t.test("uWS pre-reads small bodies of known length", { skip: available ? false : "uWebSockets.js cannot load here" }, async (t) => {
  const seen: Seen[] = [];
  const server = new UwsServer({ logger: silentLogger, prereadLimit: 1024 });
  const { port } = await server.listen(recorder(seen), { host: "127.0.0.1", port: 0 });
  t.teardown(() => server.close({ timeout: 1000 }));
  const url = `http://127.0.0.1:${port}/`;

  const small = await request(url, { method: "POST", body: "x".repeat(1000) });
  t.equal(await small.body.text(), "1000");
  t.same(seen.at(-1), { inHand: true, events: [{ bytes: 1000, more: false }] }, "whole, in one event, in hand");

  const large = await request(url, { method: "POST", body: "y".repeat(200_000) });
  t.equal(await large.body.text(), "200000", "past the limit: streamed, all of it");
  t.equal(seen.at(-1)!.events.reduce((n, e) => n + e.bytes, 0), 200_000);

  // Chunked (no content-length): streamed, never pre-read, whatever its size.
  const chunked = await request(url, {
    method: "POST",
    body: Readable.from([Buffer.from("ab"), Buffer.from("cd")]),
  });
  t.equal(await chunked.body.text(), "4");

  const before = seen.length;
  // A client that sends headers and half its small body, then leaves: the app never runs, and
  // the server goes on serving.
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + "z".repeat(40), () => {
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    socket.on("error", reject);
  });
  const after = await request(url, { method: "POST", body: "ok" });
  t.equal(await after.body.text(), "2");
  t.equal(seen.length, before + 1, "the abandoned request never reached the app");
});

t.test("prereadLimit 0 streams every body", { skip: available ? false : "uWebSockets.js cannot load here" }, async (t) => {
  const seen: Seen[] = [];
  const server = new UwsServer({ logger: silentLogger, prereadLimit: 0 });
  const { port } = await server.listen(recorder(seen), { host: "127.0.0.1", port: 0 });
  t.teardown(() => server.close({ timeout: 1000 }));
  const response = await request(`http://127.0.0.1:${port}/`, { method: "POST", body: "hello" });
  t.equal(await response.body.text(), "5");
  t.equal(seen[0]!.inHand, false, "the body had not arrived when the app asked for it");
});
