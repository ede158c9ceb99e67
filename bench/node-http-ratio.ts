/**
 * laminar on node:http vs a bare node:http server doing the same work (see `ratio.ts` for how).
 *
 * Run: `npm run bench:node-http` (builds first). Knobs: ROUNDS (9), DURATION (3), CONNECTIONS (64).
 * Results: `bench/results/node-http-ratio-<date>.json`.
 *
 * @module
 */
import { runRatio } from "./ratio.js";

await runRatio({
  id: "node-http-ratio",
  subject: { name: "laminar", app: "apps/laminar-node-http.js", port: 3100 },
  peers: [{ name: "bare node:http", app: "apps/bare-node-http.js", port: 3101 }],
});
