/**
 * `npm run example:chat`: serves the chat on 127.0.0.1:8001 (`HOST`, `PORT`; `SERVER=uws` for
 * uWebSockets.js) until SIGINT or SIGTERM; open connections are closed with 1001 on the way out.
 *
 * @module
 */
import { createChat } from "./app.js";

const server = process.env.SERVER === "uws" ? "uws" : "node";
const app = createChat({ server });
const address = await app.listen({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 8001) });
app.logger.info({ url: address.url, server }, `chat listening on ${address.url}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal means now
    stopping = true;
    app.close({ timeout: 5_000 }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
