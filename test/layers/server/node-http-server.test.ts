/**
 * What is specific to NodeHttpServer (the shared behaviour is in the conformance suite): how the
 * limits reach node, injection of createServer and the logger, misuse of listen().
 */
import t from "tap";
import * as http from "node:http";
import { request } from "undici";
import { NodeHttpServer } from "../../../layers/server/node-http-server.js";
import { DEFAULT_LIMITS } from "../../../layers/server/connection-server.js";
import { silentLogger } from "../../../lib/logger.js";
import { capturingLogger, echoApp } from "../../conformance/server/test-apps.js";
import { rawRequest } from "../../conformance/server/raw-http.js";

t.test("limits are mapped onto node's server options", async (t) => {
  const seen: http.ServerOptions[] = [];
  const created: http.Server[] = [];
  const createServer = ((options: http.ServerOptions, listener: http.RequestListener) => {
    seen.push(options);
    const server = http.createServer(options, listener);
    created.push(server);
    return server;
  }) as typeof http.createServer;
  const server = new NodeHttpServer({ logger: silentLogger, createServer });
  await server.listen(echoApp, { port: 0, maxHeaderSize: 4096, requestTimeout: 2000, headersTimeout: 5000, keepAliveTimeout: 700 });
  t.teardown(() => server.close({ timeout: 0 }));
  t.match(seen[0], {
    maxHeaderSize: 4096,
    requestTimeout: 2000,
    headersTimeout: 2000,
    keepAliveTimeout: 700,
    connectionsCheckingInterval: 500,
    requireHostHeader: false,
  });
  t.equal(created[0].keepAliveTimeout, 700);
  t.equal(created[0].headersTimeout, 2000, "headersTimeout clamped to requestTimeout (node rejects more)");
});

t.test("defaults come from DEFAULT_LIMITS; the default host is 127.0.0.1", async (t) => {
  const seen: http.ServerOptions[] = [];
  const createServer = ((options: http.ServerOptions, listener: http.RequestListener) => {
    seen.push(options);
    return http.createServer(options, listener);
  }) as typeof http.createServer;
  const server = new NodeHttpServer({ logger: silentLogger, createServer });
  const address = await server.listen(echoApp, { port: 0 });
  t.teardown(() => server.close({ timeout: 0 }));
  t.equal(address.host, "127.0.0.1");
  t.match(seen[0], {
    maxHeaderSize: DEFAULT_LIMITS.maxHeaderSize,
    requestTimeout: DEFAULT_LIMITS.requestTimeout,
    headersTimeout: DEFAULT_LIMITS.headersTimeout,
    keepAliveTimeout: DEFAULT_LIMITS.keepAliveTimeout,
  });
});

t.test("the listen() logger wins over the constructor's", async (t) => {
  const ctorLogger = capturingLogger();
  const listenLogger = capturingLogger();
  const server = new NodeHttpServer({ logger: ctorLogger });
  const { url } = await server.listen(
    async () => {
      throw new Error("logged where?");
    },
    { port: 0, logger: listenLogger },
  );
  t.teardown(() => server.close({ timeout: 0 }));
  const res = await request(url);
  await res.body.dump();
  t.equal(res.statusCode, 500);
  t.equal(ctorLogger.entries.length, 0);
  t.match(listenLogger.entries, [{ level: "error", obj: { err: { message: "logged where?" } } }]);
});

t.test("malformed input is logged at debug level only (it is the client's problem)", async (t) => {
  const logger = capturingLogger();
  const server = new NodeHttpServer();
  const { port } = await server.listen(echoApp, { port: 0, logger });
  t.teardown(() => server.close({ timeout: 0 }));
  const { responses } = await rawRequest(port, "NOT HTTP\r\n\r\n");
  t.equal(responses[0].status, 400);
  t.same(
    logger.entries.map((e) => e.level),
    ["debug"],
  );
  t.match(logger.entries[0].obj, { status: 400, err: { code: String } });
});

t.test("listen() twice on one instance is refused", async (t) => {
  const server = new NodeHttpServer({ logger: silentLogger });
  await server.listen(echoApp, { port: 0 });
  t.teardown(() => server.close({ timeout: 0 }));
  await t.rejects(server.listen(echoApp, { port: 0 }), { message: /already listening/ });
});
