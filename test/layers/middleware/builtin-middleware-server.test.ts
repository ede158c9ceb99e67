/**
 * requestId, accessLog and session on real sockets, on both connection servers: the ID is echoed
 * over the wire, the access log writes one line per request (and one per WebSocket) with the real
 * peer address, the session cookie survives a round trip through a real HTTP client, and a forged
 * cookie is an empty session. The uWS half is skipped where uWebSockets.js cannot load.
 */
import t from "tap";
import { pino } from "pino";
import { request } from "undici";
import { WebSocket } from "ws";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { accessLog } from "../../../layers/middleware/access-log.js";
import { requestId, requestIdOf } from "../../../layers/middleware/request-id.js";
import { session, sessionOf } from "../../../layers/middleware/session.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

type Line = Record<string, unknown>;

/** Waits (bounded) until `predicate` holds, polling each tick. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const server of ["node", "uws"] as const) {
  t.test(`request ID, access log and session on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const lines: Line[] = [];
    const logger = pino({ level: "info", base: null, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
    const app = new App({ logger: silentLogger, server });
    app.wrap(requestId());
    app.wrap(accessLog({ logger }));
    app.use(session({ secretKeys: ["k".repeat(40)] }));
    app.get("/login", ({ scope }) => {
      sessionOf(scope).user = "ada";
      return { id: requestIdOf(scope) };
    });
    app.get("/me", ({ scope }) => ({ user: sessionOf(scope).user ?? null, id: requestIdOf(scope) }));
    app.websocket("/ws", async ({ ws }) => {
      await ws.accept();
      await ws.sendText("hi");
      await ws.close(4001);
    });
    const { url, port } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    const login = await request(`${url}/login?x=1`, { headers: { "x-request-id": "wire-id-1" } });
    t.equal(login.statusCode, 200);
    t.equal(login.headers["x-request-id"], "wire-id-1", "the incoming ID is echoed");
    t.same(await login.body.json(), { id: "wire-id-1" }, "and seen by the handler");
    const setCookie = login.headers["set-cookie"];
    t.type(setCookie, "string");
    const cookie = String(setCookie).split(";")[0]!;
    t.match(cookie, /^session=[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}$/);

    const me = await request(`${url}/me`, { headers: { cookie, "x-request-id": "bad\tid" } });
    const body = (await me.body.json()) as { user: string; id: string };
    t.equal(body.user, "ada", "the session survives the round trip");
    t.match(body.id, /^[0-9a-f-]{36}$/, "a malformed ID is replaced");
    t.equal(me.headers["x-request-id"], body.id);
    t.equal(me.headers["set-cookie"], undefined, "unchanged session: no Set-Cookie");

    const forged = await request(`${url}/me`, { headers: { cookie: cookie.replace(/\.[^.]+$/, `.${"A".repeat(43)}`) } });
    t.same(((await forged.body.json()) as { user: unknown }).user, null, "a forged signature: empty session");

    await until(() => lines.length >= 3, "three access lines");
    t.match(lines[0], { msg: "request completed", method: "GET", path: "/login", status: 200, requestId: "wire-id-1", client: /127\.0\.0\.1/ });
    t.type(lines[0]!.bytes, "number");
    t.ok((lines[0]!.bytes as number) > 0);
    t.match(lines[1], { path: "/me", status: 200, requestId: body.id });

    const closeCode = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { "x-request-id": "ws-id" } });
      const timer = setTimeout(() => (ws.terminate(), reject(new Error("no close within 5 s"))), 5_000);
      ws.once("close", (code) => (clearTimeout(timer), resolve(code)));
      ws.once("error", (error) => (clearTimeout(timer), reject(error)));
    });
    t.equal(closeCode, 4001);
    await until(() => lines.some((l) => l.msg === "websocket closed"), "the websocket line");
    t.match(lines.find((l) => l.msg === "websocket closed"), { path: "/ws", status: 101, closeCode: 4001, messagesOut: 1, requestId: "ws-id", client: /127\.0\.0\.1/ });
  });
}

for (const server of ["node", "uws"] as const) {
  t.test(`CORS over real sockets on ${server}: preflight, simple request, refusal`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const { cors } = await import("../../../layers/middleware/cors.js");
    const app = new App({ logger: silentLogger, server });
    app.use(cors({ allowOrigins: ["https://app.example"], allowMethods: ["GET", "PUT"], allowCredentials: true, exposeHeaders: ["x-total"] }));
    let puts = 0;
    app.put("/items", () => {
      puts++;
      return { ok: true };
    });
    app.get("/items", ({ response }) => {
      response.setHeader("x-total", "3");
      return [];
    });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    const preflight = await request(`${url}/items`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "PUT", "access-control-request-headers": "content-type" },
    });
    await preflight.body.dump();
    t.equal(preflight.statusCode, 200);
    t.equal(preflight.headers["access-control-allow-origin"], "https://app.example");
    t.equal(preflight.headers["access-control-allow-credentials"], "true");
    t.match(String(preflight.headers["access-control-allow-methods"]), /PUT/);
    t.match(String(preflight.headers["vary"]), /origin/i);
    t.equal(puts, 0, "a preflight never reaches the route");

    const simple = await request(`${url}/items`, { headers: { origin: "https://app.example" } });
    t.same(await simple.body.json(), []);
    t.equal(simple.headers["access-control-allow-origin"], "https://app.example");
    t.equal(simple.headers["access-control-expose-headers"], "x-total");

    const hostile = await request(`${url}/items`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.evil.test", "access-control-request-method": "PUT" },
    });
    t.equal(hostile.statusCode, 400, "an origin that only starts with an allowed one is refused");
    t.equal(hostile.headers["access-control-allow-origin"], undefined);
    await hostile.body.dump();
    const other = await request(`${url}/items`, { headers: { origin: "null" } });
    t.equal(other.statusCode, 200, "a simple request from another origin is served (the browser hides it)");
    t.equal(other.headers["access-control-allow-origin"], undefined, "without CORS headers");
    await other.body.dump();
  });
}
