/**
 * laminar on node:http2 (cleartext h2c, prior knowledge) serving the benchmark's workloads
 * (`laminar-routes.ts`) through all eight layers.
 *
 * Start: `PORT=3005 node dist/bench/apps/laminar-http2.js`.
 *
 * @module
 */
import { App } from "../../lib/app.js";
import { silentLogger } from "../../lib/logger.js";
import { declareBenchRoutes } from "./laminar-routes.js";

const app = declareBenchRoutes(new App({ logger: silentLogger, server: "http2" }));
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3005) });
process.send?.("ready");
