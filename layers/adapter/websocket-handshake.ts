/**
 * The opening handshake checks both servers apply before an app sees a WebSocket request
 * (RFC 6455 §4.2.1), so a malformed upgrade is answered the same way on node:http and uWS, and a
 * well-formed one reaches the app with its offered subprotocols parsed.
 *
 * @module
 */
import type { HeaderList } from "./events.js";

/** A valid handshake: what the server needs to complete it. */
export interface Handshake {
  readonly ok: true;
  /** `Sec-WebSocket-Key`, for the `Sec-WebSocket-Accept` answer. */
  readonly key: string;
  /** Offered subprotocols, in the client's order of preference. */
  readonly subprotocols: string[];
}

/** An invalid handshake: the HTTP answer to give instead. */
export interface HandshakeRejection {
  readonly ok: false;
  readonly status: number;
  readonly detail: string;
  readonly headers: HeaderList;
}

/** A key is the base64 of 16 bytes: 22 characters and `==` (RFC 6455 §4.1 item 7). */
const KEY_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

function reject(status: number, detail: string, headers: HeaderList = []): HandshakeRejection {
  return { ok: false, status, detail, headers };
}

/** Whether a comma-separated header value contains `token` (case-insensitive). */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(",")) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/** Whether the request asks to upgrade to WebSocket (an `Upgrade` header naming `websocket`). */
export function isWebSocketUpgrade(headers: HeaderList): boolean {
  for (const [name, value] of headers) if (name === "upgrade" && hasToken(value, "websocket")) return true;
  return false;
}

/**
 * Checks a WebSocket opening handshake.
 *
 * - exactly one Host (else 400, RFC 9112 §3.2); method must be GET (else 405), `Upgrade` must name `websocket` and `Connection` must contain
 *   `upgrade` (else 400);
 * - `Sec-WebSocket-Key` must be a base64-encoded 16-byte value, present once (else 400);
 * - `Sec-WebSocket-Version` must be 13; another version gets 426 Upgrade Required with
 *   `Sec-WebSocket-Version: 13` (RFC 6455 §4.4).
 */
export function checkHandshake(method: string, headers: HeaderList): Handshake | HandshakeRejection {
  if (method !== "GET") return reject(405, "A WebSocket handshake must be a GET request", [["allow", "GET"]]);
  let upgrade: string | undefined;
  let connection: string | undefined;
  let key: string | undefined;
  let keys = 0;
  let version: string | undefined;
  let protocols: string | undefined;
  let hosts = 0;
  for (const [name, value] of headers) {
    if (name === "host") hosts++;
    else if (name === "upgrade") upgrade = value;
    else if (name === "connection") connection = connection === undefined ? value : `${connection},${value}`;
    else if (name === "sec-websocket-key") {
      key = value.trim();
      keys++;
    } else if (name === "sec-websocket-version") version = value.trim();
    else if (name === "sec-websocket-protocol") protocols = protocols === undefined ? value : `${protocols},${value}`;
  }
  // RFC 9112 §3.2, as for every HTTP/1.1 request.
  if (hosts !== 1) return reject(400, hosts === 0 ? "Missing Host header" : "More than one Host header");
  if (!hasToken(upgrade, "websocket")) return reject(400, "Upgrade header must be 'websocket'");
  if (!hasToken(connection, "upgrade")) return reject(400, "Connection header must contain 'upgrade'");
  if (keys !== 1 || key === undefined || !KEY_PATTERN.test(key)) return reject(400, "Missing or invalid Sec-WebSocket-Key");
  if (version !== "13") {
    return reject(426, "Unsupported WebSocket version: only 13 is supported", [["sec-websocket-version", "13"]]);
  }
  const subprotocols =
    protocols === undefined
      ? []
      : protocols
          .split(",")
          .map((p) => p.trim())
          .filter((p) => p !== "");
  return { ok: true, key, subprotocols };
}
