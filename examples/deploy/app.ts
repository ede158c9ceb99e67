/**
 * The app `examples/deploy/run.sh` serves behind nginx: it shows what laminar sees of each
 * request once nginx's forwarding headers were believed (`--forwarded-allow-ips`).
 *
 * `GET /` answers the client address, the scheme and the worker's pid; `/ws` echoes text frames
 * after a first message with the same facts. Static files (`/static/...`) never get here: nginx
 * serves them from `examples/deploy/static/`.
 *
 * @module
 */
import { App } from "../../lib/index.js";

/** The app `laminar serve dist/examples/deploy/app.js` loads (the default `app` export). */
export const app = new App();

app.get("/", ({ scope }) => ({ client: scope.client, scheme: scope.scheme, host: scope.headers.find(([name]) => name === "host")?.[1], worker: process.pid }));

app.websocket("/ws", async ({ ws, scope }) => {
  await ws.accept();
  await ws.sendText(JSON.stringify({ client: scope.client, scheme: scope.scheme, worker: process.pid }));
  for (;;) {
    const message = await ws.receiveText();
    await ws.sendText(message);
  }
});
