/**
 * `reusePort` on UwsServer: two servers (as two supervisor workers would) bind one port only when
 * both ask for it; without it the port stays exclusive. Skipped when uWebSockets.js cannot load.
 */
import t from "tap";
import { createServer } from "node:net";
import { request } from "undici";
import { UwsServer } from "../../../layers/server/uws-server.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { silentLogger } from "../../../lib/logger.js";
import type { App } from "../../../layers/adapter/events.js";

let available = true;
try {
  loadUws();
} catch {
  available = false;
}

/** Answers with its name, so the test can tell which server a request reached. */
const named =
  (name: string): App =>
  async (scope, _receive, send) => {
    if (scope.type !== "http") return;
    await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain"]] });
    await send({ type: "http.response.body", body: Buffer.from(name) });
  };

/**
 * A port free a moment ago. (uWS bound to port 0 with SO_REUSEPORT gets a port a second socket
 * cannot join, so the test names one, as a supervisor's --port does.)
 */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

t.test("reusePort lets a second server bind the same port, and both answer", { skip: !available && "uWebSockets.js unavailable" }, async (t) => {
  const first = new UwsServer({ logger: silentLogger });
  const { port } = await first.listen(named("first"), { host: "127.0.0.1", port: await freePort(), reusePort: true });
  t.teardown(() => first.close({ timeout: 0 }));
  const second = new UwsServer({ logger: silentLogger });
  const address = await second.listen(named("second"), { host: "127.0.0.1", port, reusePort: true });
  t.teardown(() => second.close({ timeout: 0 }));
  t.equal(address.port, port);
  // The kernel spreads new connections by a hash of the client's address: bounded attempts until both answered.
  const seen = new Set<string>();
  for (let i = 0; i < 200 && seen.size < 2; i++) {
    const response = await request(`http://127.0.0.1:${port}/`, { reset: true });
    seen.add(await response.body.text());
  }
  t.same([...seen].sort(), ["first", "second"]);
});

t.test("without reusePort the port stays exclusive", { skip: !available && "uWebSockets.js unavailable" }, async (t) => {
  const first = new UwsServer({ logger: silentLogger });
  const { port } = await first.listen(named("first"), { host: "127.0.0.1", port: 0, reusePort: true });
  t.teardown(() => first.close({ timeout: 0 }));
  const second = new UwsServer({ logger: silentLogger });
  await t.rejects(second.listen(named("second"), { host: "127.0.0.1", port }), { code: "EADDRINUSE" });
});
