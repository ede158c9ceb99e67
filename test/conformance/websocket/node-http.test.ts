/**
 * The WebSocket suite on node:http (the `ws` package's frame handling).
 */
import t from "tap";
import { websocketConformance } from "./websocket-conformance.js";

websocketConformance(t, "node", {}, 300);
