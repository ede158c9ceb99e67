/**
 * The opening-handshake checks (RFC 6455 §4.2.1) shared by both servers.
 */
import t from "tap";
import type { HeaderList } from "../../../layers/adapter/events.js";
import { checkHandshake, isWebSocketUpgrade } from "../../../layers/adapter/websocket-handshake.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const good: HeaderList = [
  ["host", "example"],
  ["upgrade", "WebSocket"],
  ["connection", "keep-alive, Upgrade"],
  ["sec-websocket-key", KEY],
  ["sec-websocket-version", "13"],
  ["sec-websocket-protocol", "chat, , v2"],
  ["sec-websocket-protocol", "v3"],
];
const without = (name: string): HeaderList => good.filter(([n]) => n !== name);
const replacing = (name: string, value: string): HeaderList => [...without(name), [name, value]];

t.same(checkHandshake("GET", good), { ok: true, key: KEY, subprotocols: ["chat", "v2", "v3"] }, "tokens case-insensitive; protocols split, blanks dropped");
t.match(checkHandshake("POST", good), { ok: false, status: 405, headers: [["allow", "GET"]] });
t.match(checkHandshake("GET", without("host")), { ok: false, status: 400, detail: /Host/ });
t.match(checkHandshake("GET", [...good, ["host", "again"]]), { ok: false, status: 400, detail: /More than one Host/ });
t.match(checkHandshake("GET", replacing("upgrade", "h2c")), { ok: false, status: 400 });
t.match(checkHandshake("GET", replacing("connection", "keep-alive")), { ok: false, status: 400 });
t.match(checkHandshake("GET", replacing("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ")), { ok: false, status: 400 }, "not 16 bytes");
t.match(checkHandshake("GET", [...good, ["sec-websocket-key", KEY]]), { ok: false, status: 400 }, "two keys");
t.match(checkHandshake("GET", replacing("sec-websocket-version", "8")), { ok: false, status: 426, headers: [["sec-websocket-version", "13"]] });
t.ok(isWebSocketUpgrade(good));
t.notOk(isWebSocketUpgrade(replacing("upgrade", "h2c")));
