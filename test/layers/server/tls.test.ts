/**
 * TLS on both connection servers, with a self-signed certificate made for the test by openssl
 * (skipped with a message where openssl is missing; the uWS half where its binary cannot load).
 */
import t from "tap";
import { connect } from "node:net";
import { Agent, request } from "undici";
import { WebSocket } from "ws";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { makeTestCertificate } from "../../fixtures/test-certificate.js";


let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

const material = makeTestCertificate(t.testdir());

for (const server of ["node", "uws"] as const) {
  const skip = typeof material === "string" ? material : server === "uws" ? uwsMissing : false;
  t.test(`TLS on ${server}`, { skip }, async (t) => {
    const { key, cert } = material as { key: Buffer; cert: Buffer };
    const app = new App({ logger: silentLogger, server });
    app.get("/scheme", ({ scope }) => ({ scheme: scope.scheme }));
    app.websocket("/ws", async ({ ws, scope }) => {
      await ws.accept();
      await ws.sendText(scope.scheme);
      await ws.close();
    });
    const { url, port } = await app.listen({ port: 0, tls: { key, cert } });
    t.teardown(() => app.close({ timeout: 1_000 }));
    t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);

    const dispatcher = new Agent({ connect: { ca: cert } });
    t.teardown(() => dispatcher.close());
    const res = await request(`${url}/scheme`, { dispatcher });
    t.equal(res.statusCode, 200, "the certificate verifies against its own CA");
    t.same(await res.body.json(), { scheme: "https" }, "the scope says https");

    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca: cert });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once("message", (data) => resolve(data.toString()));
      ws.once("error", reject);
    });
    t.equal(first, "wss", "a WebSocket over TLS says wss");

    // Plain HTTP to the TLS port: no HTTP answer (a TLS alert or a close), and the server lives on.
    const plain = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => socket.write("GET /scheme HTTP/1.1\r\nHost: x\r\n\r\n"));
      let got = "";
      socket.on("data", (chunk: Buffer) => (got += chunk.toString("latin1")));
      socket.on("close", () => resolve(got));
      socket.on("error", () => resolve(got));
    });
    t.notMatch(plain, /HTTP\/1\.1 200/, "cleartext HTTP is not served on the TLS port");
    const again = await request(`${url}/scheme`, { dispatcher });
    t.equal(again.statusCode, 200, "still serving after the cleartext client");
    await again.body.dump();

    const untrusted = new Agent();
    t.teardown(() => untrusted.close());
    await t.rejects(request(`${url}/scheme`, { dispatcher: untrusted }), "a client without the CA refuses the self-signed certificate");
  });

  t.test(`a bad key or certificate fails listen() on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const app = new App({ logger: silentLogger, server });
    await t.rejects(app.listen({ port: 0, tls: { key: "not a key", cert: "not a certificate" } }));
  });
}
