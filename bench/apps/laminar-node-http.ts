/**
 * laminar on node:http serving the benchmark's four workloads (`laminar-routes.ts`) through all
 * eight layers.
 *
 * Start: `PORT=3000 node dist/bench/apps/laminar-node-http.js`.
 *
 * @module
 */
import { App } from "../../lib/app.js";
import { silentLogger } from "../../lib/logger.js";
import { declareBenchRoutes } from "./laminar-routes.js";

const app = declareBenchRoutes(new App({ logger: silentLogger }));
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3000) });
process.send?.("ready");
