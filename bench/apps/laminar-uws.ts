/**
 * laminar on uWebSockets.js serving the benchmark's four workloads (`laminar-routes.ts`) through
 * all eight layers.
 *
 * Start: `PORT=3002 node dist/bench/apps/laminar-uws.js`.
 *
 * @module
 */
import { App } from "../../lib/app.js";
import { silentLogger } from "../../lib/logger.js";
import { declareBenchRoutes } from "./laminar-routes.js";

const app = declareBenchRoutes(new App({ logger: silentLogger, server: "uws" }));
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3002) });
process.send?.("ready");
