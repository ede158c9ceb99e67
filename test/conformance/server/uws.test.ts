/**
 * UwsServer against the connection-server conformance suite (skipped as a whole when the
 * uWebSockets.js binary cannot load on this machine). Each difference of uWS's own HTTP parser
 * from node's llhttp is listed below with what uWS does instead; the suite skips exactly those.
 */
import t from "tap";
import { silentLogger } from "../../../lib/logger.js";
import { serverConformance, type ServerQuirks } from "./server-conformance.js";
import { UwsServer } from "../../../layers/server/uws-server.js";
import { loadUws } from "../../../layers/server/uws-load.js";

const NO_HTTP10 = "uWS does not speak HTTP/1.0: it answers 505 (HTML body) and closes";
const TARGET_505 = "uWS's request-line parser only takes origin-form targets (/…): anything else is answered 505 and closed";
const UWS_400 = "rejected by uWS's parser itself: right status (400) and closed, but uWS's HTML body, not JSON";
const SILENT =
  "accepted or ignored by uWS's parser (no 400): the connection stays open until uWS's fixed ~10 s idle timeout, so the suite cannot check a status";

/** What uWS (uwsebsockets 3.0.6 = uWS v20 binary) does differently, case by case. */
export const UWS_QUIRKS: ServerQuirks = {
  skip: {
    "valid/http10.http": NO_HTTP10,
    "valid/absolute-form.http": TARGET_505,
    "valid/options-star.http": TARGET_505,
    "valid/chunked-extensions-trailers.http": "uWS rejects chunk extensions / trailers with its own 400 (RFC 9112 §7.1.1 allows them)",
    "invalid/bad-http-version.http": `${NO_HTTP10} (505 instead of 400)`,
    "invalid/bad-protocol-name.http": "uWS answers 505 (HTML) instead of 400",
    "invalid/garbage-request-line.http": "uWS answers 505 (HTML) instead of 400",
    "invalid/missing-target.http": "uWS answers 505 (HTML) instead of 400",
    "invalid/nul-in-target.http": "uWS answers 505 (HTML) instead of 400",
    "invalid/lying-content-length-more.http": "the extra bytes are a malformed next request to uWS: 505 (HTML) instead of 400",
    "invalid/bare-cr-in-header.http": SILENT,
    "invalid/conflicting-content-lengths.http": SILENT,
    "invalid/header-name-with-space.http": SILENT,
    "invalid/header-without-colon.http": SILENT,
    "invalid/lowercase-method.http": "uWS accepts lowercase methods (passes `get` to the app); " + SILENT,
    "invalid/missing-host-http11.http": SILENT,
    "invalid/nul-in-header-value.http": SILENT,
    "invalid/obs-fold.http": SILENT,
    "invalid/space-before-colon.http": SILENT,
    "graceful close closes a silent idle keep-alive connection after the grace, while a request is still in flight":
      "uWS gives JS no handle on an idle connection: app.close() would also cut the busy ones, so idle connections close once the last in-flight response is done (or at uWS's ~10 s idle timeout)",
    "invalid/headers-never-finish.http": "headersTimeout is not configurable in uWS: it closes silently after its fixed ~10 s idle timeout, no 408",
    "HTTP/1.0 without keep-alive: the connection closes after the response": NO_HTTP10,
    "an idle keep-alive connection is closed after keepAliveTimeout": "keepAliveTimeout is not configurable in uWS (fixed ~10 s)",
    "pipelined requests are answered in order even when the later one finishes first":
      "uWS closes a connection when a pipelined request arrives while an earlier response is pending past the handler's microtasks (it supports only synchronous pipelining)",
    "bytes past the declared Content-Length are a malformed next request: 400, closed": "uWS answers the malformed next request with 505 (HTML), not 400",
    "graceful close lets an in-flight request finish and refuses new connections":
      "uWS gives JS no handle on idle keep-alive connections: they are closed when the last in-flight response is done, not at once (the in-flight part: see the close-timeout case, which runs)",
  },
  foreignErrorBody: {
    "invalid/bad-chunk-size.http": UWS_400,
    "invalid/chunk-size-overflow.http": UWS_400,
    "invalid/content-length-and-transfer-encoding.http": UWS_400,
    "invalid/negative-content-length.http": UWS_400,
    "invalid/non-numeric-content-length.http": UWS_400,
    "invalid/transfer-encoding-not-chunked.http": UWS_400,
  },
};

let unavailable: string | null = null;
try {
  loadUws();
} catch (err) {
  unavailable = (err as Error).message;
}

if (unavailable !== null) {
  t.plan(0, `uWebSockets.js unavailable: ${unavailable}`);
} else {
  serverConformance(t, "UwsServer", () => new UwsServer({ logger: silentLogger }), UWS_QUIRKS);
}
