/**
 * Layer 3: the client's real address and scheme behind a reverse proxy, from `X-Forwarded-For`
 * and `X-Forwarded-Proto` (uvicorn's `ProxyHeadersMiddleware`, `--forwarded-allow-ips`).
 *
 * Behind nginx every connection comes from nginx: without this layer `scope.client` is the proxy
 * and `scope.scheme` is `http` even when the browser spoke HTTPS. The proxy says who it talked to
 * in `X-Forwarded-For` (each proxy appends the address it received the request from) and how in
 * `X-Forwarded-Proto`. Anyone can send those headers, so they are believed only when the immediate
 * peer is a trusted proxy, and in the address list only the part written by trusted proxies is:
 *
 * - the peer (`scope.client`) is not trusted: both headers are ignored, the scope is untouched;
 * - `X-Forwarded-Proto` (its right-most value, written by the nearest proxy) sets `scope.scheme`:
 *   `http`/`https` on an HTTP scope, `ws`/`wss` on a WebSocket scope (`https` ⇒ `wss`);
 * - `X-Forwarded-For` is read from the right, skipping trusted proxies: the first address that is
 *   not trusted becomes `scope.client` (port 0: the proxy does not forward the client's port).
 *   Everything left of it was written by the client itself and may be forged
 *   (`X-Forwarded-For: 6.6.6.6` sent through nginx arrives as `6.6.6.6, <real client>`). When every
 *   address is trusted, the left-most is the client (uvicorn issue #1068); with `*` that is always
 *   the answer, since every address is trusted;
 * - a value that cannot be read (an entry that is not an IP address, no entries at all, more
 *   entries than {@link MAX_FORWARDED_HOPS} to look through) keeps the peer's address, never fails
 *   the request. Empty list elements are skipped (RFC 9110 §5.6.1); several header lines are one
 *   comma-separated list (RFC 9110 §5.3). `1.2.3.4:5678` and `[v6]:port` entries (Azure, IIS)
 *   count as the address alone.
 *
 * The scope is changed in place (as uvicorn does): this layer runs outermost and the scope is the
 * request's own, so nothing else holds the proxy's view, and no copy is allocated. On uWS
 * `client` is a prototype accessor whose setter stores the new address (uws-adapter.ts), so
 * assigning works there too; a spread copy would have had to name it.
 *
 * Deliberately left out: the RFC 7239 `Forwarded` header, `X-Forwarded-Host`/`-Port`/`-Prefix`
 * (nginx sets `Host` itself; a prefix belongs in `rootPath` through a mount), and host names in the
 * trusted list (uvicorn's literals, for Unix sockets, which laminar does not listen on).
 *
 * @module
 */
import { BlockList, isIP } from "node:net";
import type { Address, App, Scope } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";

/**
 * The most `X-Forwarded-For` entries looked at (right to left) before giving up and keeping the
 * peer's address. A real chain has a handful of proxies; the cap keeps a long forged list (with
 * `*`, or through a chain of trusted proxies) from costing a trust check per entry.
 */
export const MAX_FORWARDED_HOPS = 64;

/** Options of {@link proxyHeaders}. */
export interface ProxyHeadersOptions {
  /**
   * Peers whose forwarding headers are believed: comma-separated IPv4/IPv6 addresses and CIDR
   * ranges (`127.0.0.1,::1,10.0.0.0/8,fd00::/8`), or `*` for any peer. Empty trusts nobody (the
   * middleware is then a pass-through). An IPv4 entry also matches its IPv4-mapped IPv6 form
   * (`::ffff:127.0.0.1`, what a dual-stack socket reports), and the reverse.
   */
  trustedHosts: string;
}

/** The parsed trusted list. */
export interface TrustedProxies {
  /** `*` was in the list: every address is trusted. */
  readonly any: boolean;
  /** No entries: nobody is trusted. */
  readonly none: boolean;
  /** Whether `host` (an IP address as text; anything else is not trusted) is a trusted proxy. */
  has(host: string): boolean;
}

/**
 * Parses a `--forwarded-allow-ips` value. Throws a `TypeError` naming the entry when one is not an
 * IP address, a CIDR range or `*` (at startup, so a typo cannot silently trust nobody or everybody).
 * Empty entries (`a,,b`, a trailing comma) are ignored.
 */
export function parseTrustedProxies(trustedHosts: string): TrustedProxies {
  const list = new BlockList();
  let any = false;
  let count = 0;
  for (const raw of trustedHosts.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    count++;
    if (entry === "*") {
      any = true;
      continue;
    }
    addEntry(list, entry);
  }
  return {
    any,
    none: count === 0,
    has: any ? () => true : (host) => contains(list, host),
  };
}

/** Adds one address or CIDR range to `list`, or throws. */
function addEntry(list: BlockList, entry: string): void {
  const slash = entry.indexOf("/");
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  const invalid = (why: string): TypeError =>
    new TypeError(`Invalid forwarded-allow-ips entry ${JSON.stringify(entry)}: ${why} (expected an IP address, a CIDR range such as 10.0.0.0/8, or *)`);
  if (version === 0) throw invalid("not an IP address");
  // A zone (`fe80::1%eth0`) names an interface of this host; it means nothing to a peer check.
  if (address.indexOf("%") !== -1) throw invalid("an IPv6 zone index is not allowed");
  const type = version === 4 ? "ipv4" : "ipv6";
  if (slash === -1) {
    list.addAddress(address, type);
    return;
  }
  const prefixText = entry.slice(slash + 1);
  const max = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw invalid(`the prefix length must be 0 to ${max}`);
  list.addSubnet(address, Number(prefixText), type);
}

/** `list.check` for any text: what is not an IP address is not in the list (and never throws). */
function contains(list: BlockList, host: string): boolean {
  const version = isIP(host);
  if (version === 0) return false;
  try {
    return list.check(host, version === 4 ? "ipv4" : "ipv6");
    /* c8 ignore start */
  } catch {
    // isIP and node's native parser agree on every input tried (zones included); this guards a
    // disagreement in some node version from turning a header into a failed request.
    return false;
  }
  /* c8 ignore stop */
}

/**
 * The address of one `X-Forwarded-For` entry (already trimmed): an IP address, `IPv4:port`,
 * `[IPv6]` or `[IPv6]:port`; undefined for anything else.
 */
function entryAddress(entry: string): string | undefined {
  if (isIP(entry) !== 0) return entry;
  if (entry.charCodeAt(0) === 0x5b /* [ */) {
    const close = entry.indexOf("]");
    if (close === -1) return undefined;
    const inner = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    return isIP(inner) === 6 && (rest === "" || /^:\d{1,5}$/.test(rest)) ? inner : undefined;
  }
  const colon = entry.indexOf(":");
  if (colon !== -1 && entry.indexOf(":", colon + 1) === -1 && /^:\d{1,5}$/.test(entry.slice(colon))) {
    const host = entry.slice(0, colon);
    return isIP(host) === 4 ? host : undefined;
  }
  return undefined;
}

/**
 * The client an `X-Forwarded-For` value names, given who is trusted (see the module comment), or
 * undefined when the value cannot be used and the peer's address stays.
 */
export function forwardedClient(value: string, trusted: TrustedProxies): string | undefined {
  if (trusted.any) {
    // Every address is trusted: the left-most (first non-empty) entry.
    let start = 0;
    for (let hops = 0; hops < MAX_FORWARDED_HOPS; hops++) {
      const comma = value.indexOf(",", start);
      const entry = (comma === -1 ? value.slice(start) : value.slice(start, comma)).trim();
      if (entry !== "") return entryAddress(entry);
      if (comma === -1) return undefined;
      start = comma + 1;
    }
    return undefined;
  }
  let end = value.length;
  let leftMost: string | undefined;
  for (let hops = 0; hops < MAX_FORWARDED_HOPS; hops++) {
    const comma = end === 0 ? -1 : value.lastIndexOf(",", end - 1);
    const entry = value.slice(comma + 1, end).trim();
    if (entry !== "") {
      const address = entryAddress(entry);
      if (address === undefined) return undefined;
      if (!trusted.has(address)) return address;
      leftMost = address;
    }
    if (comma === -1) return leftMost;
    end = comma;
  }
  return undefined;
}

/**
 * Whether an `X-Forwarded-Proto` value says the client spoke TLS: true for `https`/`wss`, false
 * for `http`/`ws` (any case), undefined for anything else (the scheme stays).
 */
function forwardedSecure(value: string): boolean | undefined {
  // The right-most value: the nearest proxy's (a client's own value would sit left of it).
  const proto = value.slice(value.lastIndexOf(",") + 1).trim().toLowerCase();
  if (proto === "https" || proto === "wss") return true;
  if (proto === "http" || proto === "ws") return false;
  return undefined;
}

/**
 * Rewrites `scope.client` and `scope.scheme` from the forwarding headers of trusted proxies (see
 * the module comment). Throws at construction when `trustedHosts` has an invalid entry.
 *
 * @example
 * app.wrap(proxyHeaders({ trustedHosts: "127.0.0.1,::1" }));
 */
export function proxyHeaders(options: ProxyHeadersOptions): Middleware {
  const trusted = parseTrustedProxies(options.trustedHosts);
  if (trusted.none) return (next) => next;
  return (next: App): App => {
    // The last peer checked and the answer: behind a proxy nearly every request comes from the
    // same one or few addresses, so the common case is a string comparison, not a BlockList
    // check (which allocates a native SocketAddress per call).
    let lastPeer = "";
    let lastTrusted = false;
    return (scope: Scope, receive, send) => {
      if (scope.type === "lifespan") return next(scope, receive, send);
      const peer = scope.client;
      if (peer === null) return next(scope, receive, send);
      const host = peer[0];
      if (host !== lastPeer) {
        lastTrusted = trusted.has(host);
        lastPeer = host;
      }
      if (!lastTrusted) return next(scope, receive, send);
      let forwardedFor: string | undefined;
      let forwardedProto: string | undefined;
      const headers = scope.headers;
      for (let i = 0; i < headers.length; i++) {
        const [name, value] = headers[i]!;
        if (name.length === 15 && name === "x-forwarded-for") {
          forwardedFor = forwardedFor === undefined ? value : `${forwardedFor},${value}`;
        } else if (name.length === 17 && name === "x-forwarded-proto") {
          // Several lines: the last one, whose right-most value is the list's (uvicorn keeps the last line too).
          forwardedProto = value;
        }
      }
      if (forwardedProto !== undefined) {
        const secure = forwardedSecure(forwardedProto);
        if (secure !== undefined) {
          if (scope.type === "http") scope.scheme = secure ? "https" : "http";
          else scope.scheme = secure ? "wss" : "ws";
        }
      }
      if (forwardedFor !== undefined) {
        const client = forwardedClient(forwardedFor, trusted);
        if (client !== undefined) scope.client = [client, 0] satisfies Address;
      }
      return next(scope, receive, send);
    };
  };
}
