/**
 * proxyHeaders on real sockets, on both connection servers (the uWS scope's `client` is a
 * prototype accessor, the node one a plain property): a trusted peer's forwarding headers reach
 * the handler and the middleware as the client and scheme, HTTP and WebSocket alike; the same
 * headers from another loopback address (127.0.0.2, untrusted) are ignored. The uWS half is
 * skipped where uWebSockets.js cannot load.
 */
import t from "tap";
import { Agent, request } from "undici";
import { WebSocket } from "ws";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { proxyHeaders } from "../../../layers/middleware/proxy-headers.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

const forged = { "x-forwarded-for": "6.6.6.6, 1.2.3.4", "x-forwarded-proto": "https" };

/** The first message of a WebSocket to `url`, connecting from `localAddress` with `headers`. */
function firstMessage(url: string, localAddress: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, headers });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error("no WebSocket message within 5 s"))), 5_000);
    ws.once("message", (data) => {
      clearTimeout(timer);
      resolve(data.toString());
      ws.close();
    });
    ws.once("error", (error) => (clearTimeout(timer), reject(error)));
  });
}

for (const server of ["node", "uws"] as const) {
  t.test(`proxy headers on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const app = new App({ logger: silentLogger, server });
    const seenByMiddleware: string[] = [];
    app.use((next) => (scope, receive, send) => {
      if (scope.type !== "lifespan") seenByMiddleware.push(`${scope.client?.[0]} ${scope.scheme}`);
      return next(scope, receive, send);
    });
    app.wrap(proxyHeaders({ trustedHosts: "127.0.0.1,::1" }));
    app.get("/who", ({ scope }) => ({ client: scope.client, scheme: scope.scheme }));
    app.websocket("/ws", async ({ ws, scope }) => {
      await ws.accept();
      await ws.sendText(JSON.stringify({ client: scope.client, scheme: scope.scheme }));
      await ws.close();
    });
    const { url, port } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    const trusted = await request(`${url}/who`, { headers: forged });
    t.same(await trusted.body.json(), { client: ["1.2.3.4", 0], scheme: "https" }, "from the trusted 127.0.0.1: the forwarded client and scheme");

    // A Client option, not a `connect` one (undici ignores `connect.localAddress`).
    const other = new Agent({ localAddress: "127.0.0.2" });
    t.teardown(() => other.close());
    const untrusted = await request(`${url}/who`, { headers: forged, dispatcher: other });
    const body = (await untrusted.body.json()) as { client: [string, number]; scheme: string };
    t.equal(body.client[0], "127.0.0.2", "from 127.0.0.2: the real peer");
    t.equal(body.scheme, "http");

    t.same(seenByMiddleware, ["1.2.3.4 https", "127.0.0.2 http"], "middleware sees what the handler sees");

    const viaTrusted = JSON.parse(await firstMessage(`ws://127.0.0.1:${port}/ws`, "127.0.0.1", forged)) as unknown;
    t.same(viaTrusted, { client: ["1.2.3.4", 0], scheme: "wss" }, "a WebSocket from the trusted peer: wss and the forwarded client");
    const viaOther = JSON.parse(await firstMessage(`ws://127.0.0.1:${port}/ws`, "127.0.0.2", forged)) as { client: [string, number]; scheme: string };
    t.equal(viaOther.client[0], "127.0.0.2");
    t.equal(viaOther.scheme, "ws");
  });
}
