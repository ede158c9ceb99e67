/**
 * NodeHttpServer against the connection-server conformance suite.
 */
import t from "tap";
import { NodeHttpServer } from "../../../layers/server/node-http-server.js";
import { silentLogger } from "../../../lib/logger.js";
import { serverConformance } from "./server-conformance.js";

serverConformance(t, "NodeHttpServer", () => new NodeHttpServer({ logger: silentLogger }));
