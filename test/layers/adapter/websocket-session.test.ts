/**
 * The WebSocket protocol state machine both servers share, driven through a recording transport:
 * which events are allowed when, and what the session does when the app ends or the client leaves.
 */
import t from "tap";
import type { HeaderList } from "../../../layers/adapter/events.js";
import type { WebSocketScope } from "../../../layers/adapter/websocket-events.js";
import { WebSocketSession, isSendableCloseCode, type WebSocketTransport } from "../../../layers/adapter/websocket-session.js";
import { silentLogger } from "../../../lib/logger.js";
import { ProtocolError } from "../../../lib/errors.js";

class RecordingTransport implements WebSocketTransport {
  readonly calls: unknown[][] = [];
  full = false;
  accept(subprotocol: string | undefined, headers: HeaderList): void {
    this.calls.push(["accept", subprotocol, headers]);
  }
  deny(status: number, headers: HeaderList, body: Uint8Array): void {
    this.calls.push(["deny", status, headers, Buffer.from(body).toString()]);
  }
  send(data: string | Uint8Array, binary: boolean): boolean {
    this.calls.push(["send", typeof data === "string" ? data : [...data], binary]);
    return this.full;
  }
  drained(): Promise<void> {
    this.calls.push(["drained"]);
    return Promise.resolve();
  }
  close(code: number, reason: string): void {
    this.calls.push(["close", code, reason]);
  }
  terminate(): void {
    this.calls.push(["terminate"]);
  }
  pause(): void {
    this.calls.push(["pause"]);
  }
  resume(): void {
    this.calls.push(["resume"]);
  }
}

function session(maxQueuedBytes = 1 << 30): { s: WebSocketSession; tr: RecordingTransport } {
  const scope: WebSocketScope = {
    type: "websocket",
    path: "/ws",
    rawPath: "/ws",
    queryString: "",
    headers: [],
    httpVersion: "1.1",
    scheme: "ws",
    client: null,
    server: null,
    rootPath: "",
    subprotocols: ["chat"],
    state: {},
  };
  const tr = new RecordingTransport();
  return { s: new WebSocketSession(scope, tr, { logger: silentLogger, maxQueuedBytes }), tr };
}

t.test("connect first, then messages in order, then the disconnect (repeated)", async (t) => {
  const { s } = session();
  s.onMessage("a");
  s.onMessage(new Uint8Array([1]));
  t.same(await s.receive(), { type: "websocket.connect" });
  t.same(await s.receive(), { type: "websocket.receive", text: "a" });
  t.same(await s.receive(), { type: "websocket.receive", bytes: new Uint8Array([1]) });
  const pending = s.receive();
  s.onClose(4000, "bye");
  s.onClose(1006, ""); // a later report does not overwrite the first
  t.same(await pending, { type: "websocket.disconnect", code: 4000, reason: "bye" });
  t.same(await s.receive(), { type: "websocket.disconnect", code: 4000, reason: "bye" });
});

t.test("events out of order are ProtocolErrors naming what was expected", async (t) => {
  const { s, tr } = session();
  await t.rejects(s.send({ type: "websocket.send", text: "early" }), ProtocolError, "send before accept");
  await t.rejects(s.send({ type: "websocket.accept", subprotocol: "v9" }), /subprotocol the client offered \(chat\)/);
  await t.rejects(s.send({ type: "websocket.accept", headers: [["bad name", "x"]] }), /invalid header name/);
  await s.send({ type: "websocket.accept", subprotocol: "chat" });
  await t.rejects(s.send({ type: "websocket.accept" }), /expected websocket.send or websocket.close, got websocket.accept/);
  await t.rejects(s.send({ type: "websocket.send", text: "a", bytes: new Uint8Array(1) }), /exactly one of text or bytes/);
  await t.rejects(s.send({ type: "websocket.send" }), /exactly one of text or bytes/);
  await t.rejects(s.send({ type: "websocket.close", code: 1006 }), /close code/, "1006 is never sent");
  await t.rejects(s.send({ type: "websocket.close", reason: "x".repeat(124) }), /123 bytes/);
  await t.rejects(s.send({ type: "websocket.http.response.start", status: 403, headers: [] }), ProtocolError, "no denial after accept");
  await s.send({ type: "websocket.close", code: 4001, reason: "done" });
  await t.rejects(s.send({ type: "websocket.send", text: "late" }), /connection is closed/);
  t.same(tr.calls, [
    ["accept", "chat", []],
    ["close", 4001, "done"],
  ]);
});

t.test("close before accept is a 403; a denial is sent whole when its body ends", async (t) => {
  const closed = session();
  await closed.s.send({ type: "websocket.close" });
  t.equal(closed.tr.calls[0]?.[1], 403);

  const denied = session();
  await t.rejects(denied.s.send({ type: "websocket.http.response.start", status: 101, headers: [] }), /denial status/);
  await denied.s.send({ type: "websocket.http.response.start", status: 401, headers: [["www-authenticate", "Bearer"]] });
  await denied.s.send({ type: "websocket.http.response.body", body: "no ", moreBody: true });
  t.same(denied.tr.calls, [], "nothing written before the last chunk");
  await denied.s.send({ type: "websocket.http.response.body", body: new TextEncoder().encode("entry") });
  t.same(denied.tr.calls, [["deny", 401, [["www-authenticate", "Bearer"]], "no entry"]]);
});

t.test("backpressure: a full transport makes send() wait for drained()", async (t) => {
  const { s, tr } = session();
  await s.send({ type: "websocket.accept" });
  tr.full = true;
  await s.send({ type: "websocket.send", bytes: new Uint8Array([7]) });
  t.same(tr.calls.slice(1), [["send", [7], true], ["drained"]]);
});

t.test("after the client left, sends resolve without writing", async (t) => {
  const { s, tr } = session();
  await s.send({ type: "websocket.accept" });
  s.onClose(1001, "");
  await s.send({ type: "websocket.send", text: "into the void" });
  await s.send({ type: "websocket.close" });
  t.same(tr.calls, [["accept", undefined, []]]);
});

t.test("unread messages pause the transport, reading resumes it; a flood past the limit closes 1008", async (t) => {
  const { s, tr } = session(200 * 1024);
  await s.receive(); // connect
  const chunk = new Uint8Array(30 * 1024);
  for (let i = 0; i < 2; i++) s.onMessage(chunk);
  t.notOk(tr.calls.some((c) => c[0] === "pause"), "under 64 KiB queued: reading goes on");
  s.onMessage(chunk);
  t.ok(tr.calls.some((c) => c[0] === "pause"), "past 64 KiB: paused");
  for (let i = 0; i < 3; i++) await s.receive();
  t.ok(tr.calls.some((c) => c[0] === "resume"), "resumed once the queue is read");
  for (let i = 0; i < 7; i++) s.onMessage(chunk);
  t.same(tr.calls.at(-1), ["close", 1008, "Receive queue full"]);
});

t.test("finish closes what the app left open", async (t) => {
  const returned = session();
  returned.s.finish(false);
  t.equal(returned.tr.calls[0]?.[1], 500, "no answer to the handshake: 500");

  const accepted = session();
  await accepted.s.send({ type: "websocket.accept" });
  accepted.s.finish(false);
  t.same(accepted.tr.calls.at(-1), ["close", 1000, ""], "returned after accept: 1000");

  const failed = session();
  await failed.s.send({ type: "websocket.accept" });
  failed.s.finish(true, new Error("boom"));
  t.same(failed.tr.calls.at(-1), ["close", 1011, ""], "failed after accept: 1011");

  const halfDenied = session();
  await halfDenied.s.send({ type: "websocket.http.response.start", status: 400, headers: [] });
  halfDenied.s.finish(true, new Error("mid-denial"));
  t.same(halfDenied.tr.calls.at(-1), ["terminate"], "a denial that never ended: dropped");

  const gone = session();
  gone.s.onClose(1006, "");
  gone.s.finish(false);
  t.same(gone.tr.calls, [], "nothing to close for a client that left");
});

t.test("shutdown: 1001 for open connections, 503 for pending handshakes", async (t) => {
  const open = session();
  await open.s.send({ type: "websocket.accept" });
  open.s.shutdown();
  t.same(open.tr.calls.at(-1), ["close", 1001, "Server shutting down"]);
  const pending = session();
  pending.s.shutdown();
  t.equal(pending.tr.calls[0]?.[1], 503);
});

t.test("sendable close codes", async (t) => {
  for (const code of [1000, 1003, 1007, 1014, 3000, 4999]) t.ok(isSendableCloseCode(code), String(code));
  for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5]) t.notOk(isSendableCloseCode(code), String(code));
});
