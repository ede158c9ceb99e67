/**
 * proxyHeaders driven directly through the event interface: hand-made scopes from trusted and
 * untrusted peers, forged and broken forwarding headers; no sockets (the real servers are in
 * proxy-headers-server.test.ts).
 */
import t from "tap";
import type { Address, App, HeaderList, HttpScope, LifespanScope, Receive, Scope, Send, WebSocketScope } from "../../../layers/adapter/events.js";
import { MAX_FORWARDED_HOPS, forwardedClient, parseTrustedProxies, proxyHeaders } from "../../../layers/middleware/proxy-headers.js";
import { httpScope } from "../../fixtures/scopes.js";

const receive: Receive = async () => ({ type: "http.request", body: new Uint8Array(0), moreBody: false });
const send: Send = async () => {};

/** Runs `scope` through proxyHeaders(trustedHosts) and returns the scope the next app saw. */
async function seen<S extends Scope>(trustedHosts: string, scope: S): Promise<S> {
  let got: Scope | undefined;
  const next: App = async (inner) => {
    got = inner;
  };
  await proxyHeaders({ trustedHosts })(next)(scope, receive, send);
  if (got === undefined) throw new Error("the next app was not called");
  return got as S;
}

/** An http scope from `peer` with `headers`. */
function from(peer: string | null, headers: HeaderList = [], port = 40000): HttpScope {
  return httpScope("GET", "/", { client: peer === null ? null : [peer, port], headers });
}

function websocketScope(peer: string, headers: HeaderList): WebSocketScope {
  return {
    type: "websocket",
    path: "/ws",
    rawPath: "/ws",
    queryString: "",
    headers,
    httpVersion: "1.1",
    scheme: "ws",
    client: [peer, 40000],
    server: null,
    rootPath: "",
    subprotocols: [],
    state: {},
  };
}

/** The client the app sees for `X-Forwarded-For: xff` from `peer`. */
async function clientFor(trustedHosts: string, peer: string, xff: string): Promise<Address | null> {
  return (await seen(trustedHosts, from(peer, [["x-forwarded-for", xff]]))).client;
}

t.test("invalid trusted entries throw at construction, naming the entry", async (t) => {
  for (const entry of ["localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "/8", "10.0.0.0/8x", "10.0.0.0/-1", "1.2.3", "01.2.3.4", "[::1]", "fe80::1%eth0", "1.2.3.4 5.6.7.8", "**"]) {
    t.throws(
      () => proxyHeaders({ trustedHosts: `127.0.0.1,${entry}` }),
      { name: "TypeError", message: new RegExp(`Invalid forwarded-allow-ips entry ${JSON.stringify(entry).replace(/[[\]*.]/g, "\\$&")}`) },
      entry,
    );
  }
  for (const ok of ["127.0.0.1", " 127.0.0.1 , ::1 ", "10.0.0.0/8,fd00::/8", "0.0.0.0/0", "::ffff:127.0.0.1", "*", "10.0.0.0/8,*", "", " , ", "127.0.0.1,"]) {
    t.doesNotThrow(() => proxyHeaders({ trustedHosts: ok }), JSON.stringify(ok));
  }
});

t.test("an empty trusted list is a pass-through: the next app itself", async (t) => {
  const next: App = async () => {};
  t.equal(proxyHeaders({ trustedHosts: "" })(next), next);
  t.equal(proxyHeaders({ trustedHosts: " , " })(next), next);
  t.same(await clientFor("", "127.0.0.1", "1.2.3.4"), ["127.0.0.1", 40000]);
});

t.test("from an untrusted peer both headers are ignored and the scope is untouched", async (t) => {
  const scope = from("8.8.8.8", [["x-forwarded-for", "1.2.3.4"], ["x-forwarded-proto", "https"]]);
  const client = scope.client;
  const got = await seen("127.0.0.1,10.0.0.0/8", scope);
  t.equal(got.client, client, "same client");
  t.equal(got.scheme, "http");
  // Close to a trusted address, but not it.
  t.same(await clientFor("127.0.0.1", "127.0.0.2", "1.2.3.4"), ["127.0.0.2", 40000]);
  t.same(await clientFor("127.0.0.1", "::ffff:127.0.0.2", "1.2.3.4"), ["::ffff:127.0.0.2", 40000]);
  t.same(await clientFor("10.0.0.0/8", "11.0.0.1", "1.2.3.4"), ["11.0.0.1", 40000]);
  // A peer that is no IP address at all (the in-process test client's "testclient").
  t.same(await clientFor("127.0.0.1", "testclient", "1.2.3.4"), ["testclient", 40000]);
});

t.test("a trusted peer's X-Forwarded-For sets the client, port 0", async (t) => {
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "1.2.3.4"), ["1.2.3.4", 0]);
  t.same(await clientFor("127.0.0.1", "127.0.0.1", " 1.2.3.4 "), ["1.2.3.4", 0], "optional whitespace");
});

t.test("a forged chain: the right-most untrusted address wins, not the client's claim", async (t) => {
  // The client sent `X-Forwarded-For: 6.6.6.6`; nginx on 127.0.0.1 appended the address it saw.
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "6.6.6.6, 1.2.3.4"), ["1.2.3.4", 0]);
  // Two trusted proxies (10.0.0.0/8) in front of the app: both skipped.
  t.same(await clientFor("127.0.0.1,10.0.0.0/8", "127.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.2.3"), ["1.2.3.4", 0]);
  // The client claims to be a trusted proxy: the claim sits left of its real address, never reached.
  t.same(await clientFor("127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.9.9.9, 1.2.3.4"), ["1.2.3.4", 0]);
});

t.test("every address trusted: the left-most", async (t) => {
  t.same(await clientFor("127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.0.0.1, 10.0.0.2"), ["10.0.0.1", 0]);
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "127.0.0.1"), ["127.0.0.1", 0]);
});

t.test("* trusts any peer, and the left-most forwarded address is the client", async (t) => {
  t.same(await clientFor("*", "8.8.8.8", "1.1.1.1, 2.2.2.2"), ["1.1.1.1", 0]);
  t.same(await clientFor("10.0.0.0/8, *", "2001:db8::9", ", 1.1.1.1"), ["1.1.1.1", 0], "mixed with other entries; empty elements skipped");
  t.same(await clientFor("*", "8.8.8.8", "nonsense, 2.2.2.2"), ["8.8.8.8", 40000], "an unreadable left-most keeps the peer");
  t.same(await clientFor("*", "8.8.8.8", " , ,"), ["8.8.8.8", 40000], "no entries keeps the peer");
  const proto = await seen("*", from("8.8.8.8", [["x-forwarded-proto", "https"]]));
  t.equal(proto.scheme, "https");
});

t.test("IPv6 and IPv4-mapped peers and addresses", async (t) => {
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
  t.same(await clientFor("127.0.0.1", "::ffff:127.0.0.1", "1.2.3.4"), ["1.2.3.4", 0]);
  t.same(await clientFor("10.0.0.0/8", "::ffff:10.1.1.1", "1.2.3.4"), ["1.2.3.4", 0]);
  t.same(await clientFor("::ffff:127.0.0.1", "127.0.0.1", "1.2.3.4"), ["1.2.3.4", 0], "and the reverse");
  t.same(await clientFor("::1", "::1", "2001:db8::1"), ["2001:db8::1", 0]);
  t.same(await clientFor("::1", "0:0:0:0:0:0:0:1", "2001:db8::1"), ["2001:db8::1", 0], "uncompressed form");
  t.same(await clientFor("::1,fd00::/8", "::1", "2001:db8::1, fd12::5"), ["2001:db8::1", 0], "IPv6 CIDR skipped");
  t.same(await clientFor("::1", "::2", "2001:db8::1"), ["::2", 40000], "untrusted IPv6 peer");
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "::ffff:1.2.3.4"), ["::ffff:1.2.3.4", 0]);
});

t.test("addresses with a port count as the address", async (t) => {
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "1.2.3.4:5678"), ["1.2.3.4", 0]);
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "[2001:db8::1]:443"), ["2001:db8::1", 0]);
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "[2001:db8::1]"), ["2001:db8::1", 0]);
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "1.2.3.4:5678, 127.0.0.1:80"), ["1.2.3.4", 0], "a trusted one with a port is skipped");
});

t.test("several X-Forwarded-For lines are one list", async (t) => {
  const lines = (...values: string[]): HeaderList => values.map((value) => ["x-forwarded-for", value]);
  // Only the first line would say 1.2.3.4; the joined list's right-most is 5.6.7.8.
  t.same((await seen("127.0.0.1", from("127.0.0.1", lines("1.2.3.4", "5.6.7.8")))).client, ["5.6.7.8", 0]);
  // Only the last line would say 10.0.0.1 (all trusted, left-most); joined, 1.2.3.4 is the client.
  t.same((await seen("127.0.0.1,10.0.0.0/8", from("127.0.0.1", lines("1.2.3.4", "10.0.0.1")))).client, ["1.2.3.4", 0]);
  t.same((await seen("127.0.0.1", from("127.0.0.1", lines("1.2.3.4", "")))).client, ["1.2.3.4", 0], "an empty line adds nothing");
});

t.test("garbage keeps the peer's address and never throws", async (t) => {
  const original: Address = ["127.0.0.1", 40000];
  const garbage = [
    "",
    "   ",
    ",,, ,",
    "unknown",
    "_hidden",
    "1.2.3.4 5.6.7.8",
    "1.2.3.4;5.6.7.8",
    "999.1.1.1",
    "1.2.3.4, garbage",
    "1.2.3.4:99999999",
    "1.2.3.4:",
    "1.2.3.4:80:80",
    "unknown:80",
    "[::1",
    "[1.2.3.4]",
    "[::1]x",
    "::1]:80",
    "\u0000",
    "1.2.3.4\u00001",
    "٣.٣.٣.٣",
  ];
  for (const value of garbage) {
    t.same(await clientFor("127.0.0.1,10.0.0.0/8", "127.0.0.1", value), original, JSON.stringify(value));
  }
  // An untrusted, readable address right of the garbage is still found (the walk stops there first).
  t.same(await clientFor("127.0.0.1", "127.0.0.1", "garbage, 1.2.3.4"), ["1.2.3.4", 0]);
});

t.test("huge lists: the walk is bounded, and a list too long to resolve keeps the peer", async (t) => {
  const trusted = "127.0.0.1,10.0.0.0/8";
  const many = (n: number, entry: string): string => new Array<string>(n).fill(entry).join(", ");
  t.same(await clientFor(trusted, "127.0.0.1", `1.2.3.4, ${many(MAX_FORWARDED_HOPS - 1, "10.0.0.1")}`), ["1.2.3.4", 0], "just within the bound");
  t.same(await clientFor(trusted, "127.0.0.1", `1.2.3.4, ${many(MAX_FORWARDED_HOPS, "10.0.0.1")}`), ["127.0.0.1", 40000], "past it");
  t.same(await clientFor(trusted, "127.0.0.1", many(100_000, "10.0.0.1")), ["127.0.0.1", 40000], "all trusted, too many to reach the left-most");
  t.same(await clientFor(trusted, "127.0.0.1", `${many(100_000, "6.6.6.6")}, 1.2.3.4`), ["1.2.3.4", 0], "a long forged prefix is never read");
  t.same(await clientFor(trusted, "127.0.0.1", ",".repeat(100_000)), ["127.0.0.1", 40000], "empty elements count towards the bound");
  t.same(await clientFor("*", "127.0.0.1", `${",".repeat(100_000)}1.2.3.4`), ["127.0.0.1", 40000], "with * too");
  t.same(await clientFor(trusted, "127.0.0.1", "1".repeat(100_000)), ["127.0.0.1", 40000], "one huge entry");
});

t.test("X-Forwarded-Proto sets the scheme of http and websocket scopes", async (t) => {
  const scheme = async (value: string | string[], peer = "127.0.0.1"): Promise<string> => {
    const values = Array.isArray(value) ? value : [value];
    return (await seen("127.0.0.1", from(peer, values.map((v) => ["x-forwarded-proto", v])))).scheme;
  };
  t.equal(await scheme("https"), "https");
  t.equal(await scheme(" HTTPS "), "https", "case and whitespace");
  t.equal(await scheme("wss"), "https", "a websocket scheme on an http scope is its http form");
  t.equal(await scheme("ws"), "http");
  t.equal(await scheme("ftp"), "http", "unknown: unchanged");
  t.equal(await scheme(""), "http", "empty: unchanged");
  t.equal(await scheme("https, http"), "http", "the right-most value (the nearest proxy's)");
  t.equal(await scheme("http, https"), "https");
  t.equal(await scheme(["http", "https"]), "https", "several lines: the last");
  t.equal(await scheme("https", "8.8.8.8"), "http", "untrusted peer: ignored");
  const https = await seen("127.0.0.1", httpScope("GET", "/", { client: ["127.0.0.1", 1], scheme: "https", headers: [["x-forwarded-proto", "http"]] }));
  t.equal(https.scheme, "http", "a proxy that received plain HTTP says so even when it speaks TLS to the app");

  const ws = async (value: string, peer = "127.0.0.1"): Promise<string> => (await seen("127.0.0.1", websocketScope(peer, [["x-forwarded-proto", value]]))).scheme;
  t.equal(await ws("https"), "wss");
  t.equal(await ws("wss"), "wss");
  t.equal(await ws("http"), "ws");
  t.equal(await ws("nope"), "ws");
  t.equal(await ws("https", "8.8.8.8"), "ws", "untrusted peer: ignored");
  const wsScope = await seen("127.0.0.1", websocketScope("127.0.0.1", [["x-forwarded-for", "6.6.6.6, 1.2.3.4"]]));
  t.same(wsScope.client, ["1.2.3.4", 0], "X-Forwarded-For on a websocket scope");
  t.same(wsScope.subprotocols, []);
});

t.test("lifespan scopes and scopes without a client pass through", async (t) => {
  const lifespan: LifespanScope = { type: "lifespan", state: {} };
  t.equal(await seen("*", lifespan), lifespan);
  const noClient = from(null, [["x-forwarded-for", "1.2.3.4"], ["x-forwarded-proto", "https"]]);
  const got = await seen("*", noClient);
  t.equal(got.client, null);
  t.equal(got.scheme, "http");
});

t.test("the next app gets the request's own scope, every other field intact", async (t) => {
  const scope = from("127.0.0.1", [["x-forwarded-for", "1.2.3.4"], ["x-forwarded-proto", "https"]]);
  scope.state = { db: "x" };
  scope.extensions = { id: 1 };
  const got = await seen("127.0.0.1", scope);
  t.equal(got, scope, "changed in place, not copied");
  t.same(got, { ...httpScope(), client: ["1.2.3.4", 0], scheme: "https", headers: scope.headers, state: { db: "x" }, extensions: { id: 1 } });
});

t.test("a scope whose client is a prototype accessor (the uWS scope) gets it through the setter", async (t) => {
  const stored: Array<Address | null> = [];
  let reads = 0;
  class AccessorScope {
    readonly type = "http" as const;
    method = "GET";
    path = "/";
    rawPath = "/";
    queryString = "";
    headers: HeaderList = [["x-forwarded-for", "6.6.6.6, 1.2.3.4"]];
    httpVersion = "1.1" as const;
    scheme: "http" | "https" = "http";
    server = null;
    rootPath = "";
    state = {};
    #client: Address | null = ["127.0.0.1", 0];
    get client(): Address | null {
      reads++;
      return this.#client;
    }
    set client(value: Address | null) {
      stored.push(value);
      this.#client = value;
    }
  }
  const scope = new AccessorScope();
  const got = await seen("127.0.0.1", scope as HttpScope);
  t.equal(got, scope);
  t.same(stored, [["1.2.3.4", 0]], "the setter stored the forwarded client");
  t.same(got.client, ["1.2.3.4", 0]);
  t.ok(reads >= 1);
  t.notOk(Object.prototype.hasOwnProperty.call(scope, "client"), "no own property shadows the accessor");
});

t.test("the last-peer shortcut never carries one peer's trust over to another", async (t) => {
  let got: HttpScope | undefined;
  const app = proxyHeaders({ trustedHosts: "127.0.0.1" })(async (scope) => {
    got = scope as HttpScope;
  });
  const sequence: Array<[peer: string, expected: string]> = [
    ["127.0.0.1", "1.2.3.4"],
    ["127.0.0.1", "1.2.3.4"],
    ["8.8.8.8", "8.8.8.8"],
    ["8.8.8.8", "8.8.8.8"],
    ["127.0.0.1", "1.2.3.4"],
    ["", ""],
    ["127.0.0.1", "1.2.3.4"],
  ];
  for (const [peer, expected] of sequence) {
    await app(from(peer, [["x-forwarded-for", "1.2.3.4"]]), receive, send);
    t.equal(got?.client?.[0], expected, `peer ${JSON.stringify(peer)}`);
  }
});

t.test("forwardedClient and parseTrustedProxies directly", async (t) => {
  const trusted = parseTrustedProxies("127.0.0.1, 10.0.0.0/8");
  t.equal(trusted.any, false);
  t.equal(trusted.none, false);
  t.equal(trusted.has("10.255.0.1"), true);
  t.equal(trusted.has("11.0.0.1"), false);
  t.equal(trusted.has("not an ip"), false);
  t.equal(trusted.has("fe80::1%eth0"), false);
  t.equal(forwardedClient("a, 1.2.3.4, 10.0.0.1", trusted), "1.2.3.4");
  t.equal(forwardedClient("10.0.0.1", trusted), "10.0.0.1");
  t.equal(forwardedClient("", trusted), undefined);
  t.equal(parseTrustedProxies("").none, true);
  t.equal(parseTrustedProxies("*").any, true);
  t.equal(parseTrustedProxies("*").has("anything"), true);
});
