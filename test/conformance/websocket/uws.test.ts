/**
 * The WebSocket suite on uWebSockets.js (skipped as a whole when the binary cannot load).
 */
import t from "tap";
import { websocketConformance } from "./websocket-conformance.js";
import { loadUws } from "../../../layers/server/uws-load.js";

let available = true;
try {
  loadUws();
} catch (error) {
  available = false;
  t.comment(`uWebSockets.js unavailable: ${(error as Error).message}`);
}

if (available) {
  // uWS's idle timeout is whole seconds, at least 8: the idle case takes that long here.
  websocketConformance(t, "uws", {}, 8_000);
} else {
  t.pass("skipped: uWebSockets.js cannot be loaded here");
}
