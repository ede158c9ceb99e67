/**
 * The chat example on both servers, with real WebSocket clients (uWS skipped where its binary
 * cannot load).
 */
import t from "tap";
import { WebSocket } from "ws";
import { createChat } from "../../../examples/chat/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

/** A client that collects every event it receives. */
class Client {
  readonly events: Array<Record<string, unknown>> = [];
  readonly ws: WebSocket;
  private waiters: Array<() => void> = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data) => {
      this.events.push(JSON.parse(data.toString()) as Record<string, unknown>);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
  }

  /** Resolves once an event matching `pred` has arrived. */
  async until(pred: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      const found = this.events.find(pred);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

function refusedStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => reject(new Error("accepted")));
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode as number);
    });
    ws.once("error", () => undefined);
  });
}

for (const server of ["node", "uws"] as const) {
  t.test(`chat on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const app = createChat({ logger: silentLogger, server });
    const { port } = await app.listen({ port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));
    const base = `ws://127.0.0.1:${port}/ws/rooms`;

    const ann = new Client(`${base}/lobby?name=ann`);
    await ann.open();
    await ann.until((e) => e.type === "join" && e.name === "ann");
    const bob = new Client(`${base}/lobby?name=bob`);
    await bob.open();
    const joined = await ann.until((e) => e.type === "join" && e.name === "bob");
    t.same(joined.members, ["ann", "bob"], "ann sees bob join, with the member list");
    const elsewhere = new Client(`${base}/kitchen?name=cat`);
    await elsewhere.open();

    bob.ws.send("hi all");
    t.same(await ann.until((e) => e.type === "message"), { type: "message", name: "bob", text: "hi all" });
    t.same(await bob.until((e) => e.type === "message"), { type: "message", name: "bob", text: "hi all" }, "the sender gets its own broadcast");

    const rooms = (await (await fetch(`http://127.0.0.1:${port}/rooms`)).json()) as unknown[];
    t.same(rooms, [
      { room: "lobby", members: 2 },
      { room: "kitchen", members: 1 },
    ]);

    t.equal(await refusedStatus(`${base}/lobby?name=ann`), 409, "a taken name is refused before the handshake");
    t.equal(await refusedStatus(`${base}/Bad Room!?name=x`), 422, "a malformed room is a validation error");
    t.equal(await refusedStatus(`${base}/lobby`), 422, "the name is required");

    bob.ws.terminate(); // vanishes without a close frame
    const left = await ann.until((e) => e.type === "leave");
    t.same(left, { type: "leave", name: "bob", members: ["ann"] });
    t.notOk(
      elsewhere.events.some((e) => e.type === "message" || e.name === "bob"),
      "another room hears nothing of the lobby",
    );
    ann.ws.close();
    elsewhere.ws.close();
  });
}
