import t from "tap";
import { connect } from "node:net";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";

/** Status code of an HTTP/1.0 request: node:http answers 200, uWebSockets.js refuses HTTP/1.0 with 505. */
function http10Status(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end("GET /hello HTTP/1.0\r\nHost: x\r\n\r\n"));
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

function makeApp(server?: "node" | "uws"): App {
  const app = new App({ logger: silentLogger, ...(server ? { server } : {}) });
  app.get("/hello", () => ({ message: "hello" }));
  return app;
}

function uwsAvailable(): boolean {
  try {
    loadUws();
    return true;
  } catch {
    return false;
  }
}

const uwsSkip = uwsAvailable() ? false : "uWebSockets.js is not installed";

t.test("listen({ server: 'uws' }) overrides the constructor's node default", { skip: uwsSkip }, async (t) => {
  const app = makeApp();
  const address = await app.listen({ port: 0, server: "uws" });
  t.teardown(() => app.close());
  t.equal(await http10Status(address.port), 505, "uWS answered");
});

t.test("listen({ server: 'node' }) overrides a constructor's uws", async (t) => {
  const app = makeApp("uws");
  const address = await app.listen({ port: 0, server: "node" });
  t.teardown(() => app.close());
  t.equal(await http10Status(address.port), 200, "node:http answered");
});

t.test("without the option the constructor's choice stands", async (t) => {
  const app = makeApp();
  const address = await app.listen({ port: 0 });
  t.teardown(() => app.close());
  t.equal(await http10Status(address.port), 200);
});
