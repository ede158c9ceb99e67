/**
 * `npm start`: serves the bookstore on 127.0.0.1:8000 (`HOST` and `PORT` override) until SIGINT or
 * SIGTERM, then closes gracefully (in-flight requests finish, the database closes). A database that
 * cannot be opened or reached (`DATABASE_URL`) stops it before it listens, with exit status 1.
 *
 * @module
 */
import { createBookstore } from "./app.js";

const app = createBookstore();
const address = await app.listen({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 8000) }).catch((error: unknown) => {
  // A database that cannot be opened or reached: one line that says which, and a failing exit status.
  app.logger.error({ err: error }, error instanceof Error ? error.message : String(error));
  process.exit(1);
});
app.logger.info({ url: address.url }, `bookstore listening on ${address.url}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal means now
    stopping = true;
    app.logger.info({ signal }, "shutting down");
    app.close({ timeout: 10_000 }).then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  });
}
