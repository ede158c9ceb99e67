/**
 * laminar on uWebSockets.js vs a bare uWebSockets.js server doing the same work, and vs Fastify 5
 * on node:http with the same schemas (see `ratio.ts` for how). Targets (issue 3): laminar-uws at
 * least 75 % of bare uWS, and at least 1.5x Fastify, on both workloads.
 *
 * Run: `npm run bench:uws` (builds first). Knobs: ROUNDS (9), DURATION (3), CONNECTIONS (64).
 * Results: `bench/results/uws-ratio-<date>.json`.
 *
 * @module
 */
import { runRatio } from "./ratio.js";

await runRatio({
  id: "uws-ratio",
  subject: { name: "laminar-uws", app: "apps/laminar-uws.js", port: 3102 },
  peers: [
    { name: "bare-uws", app: "apps/bare-uws.js", port: 3103 },
    { name: "fastify", app: "apps/fastify.js", port: 3104 },
  ],
});
