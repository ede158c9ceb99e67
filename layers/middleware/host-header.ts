/**
 * Reading a `Host` header strictly: the shared parser of {@link trustedHost} and
 * {@link httpsRedirect}, which both compare the host or copy it into a `Location` header.
 *
 * RFC 9110 §7.2 gives `Host = uri-host [ ":" port ]`, with `uri-host` an IP literal (`[v6]`), an
 * IPv4 address or a registered name. Starlette splits on the first `:` and compares what is left,
 * which mangles IPv6 literals and lets a wildcard `*.example.com` accept `evil.com#.example.com`
 * (it ends with `.example.com`). Here a registered name must be DNS-shaped (labels of letters,
 * digits, `-` and `_`, 1–63 characters, 253 in all), so nothing but a host can match, and a value
 * that is not a host at all (`evil.com#x`, `a@b`, `a/b`, spaces, two ports) is rejected.
 *
 * Names are lower-cased (hosts are case-insensitive, RFC 4343) and one trailing dot (the DNS root,
 * `example.com.`) is dropped, so the same host is always the same string.
 *
 * @module
 */
import { isIP } from "node:net";

/** A parsed `Host` value. */
export interface ParsedHost {
  /** Lower-case name, IPv4 address, or IPv6 address without brackets. */
  hostname: string;
  /** True when `hostname` is an IPv6 address (it needs brackets in a URL). */
  ipv6: boolean;
  /** The port as written (digits only), or `""` when none. */
  port: string;
}

/** A registered name's label, after lower-casing. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Longer than any valid host (253 + `:65535`, or a bracketed IPv6 with a port): not looked at. */
const MAX_HOST_LENGTH = 270;

/**
 * Parses a `Host` header value; undefined when it is not `host[:port]` as RFC 9110 §7.2 allows.
 *
 * @example
 * parseHost("Example.COM:8080"); // { hostname: "example.com", ipv6: false, port: "8080" }
 * parseHost("[::1]"); // { hostname: "::1", ipv6: true, port: "" }
 * parseHost("evil.com#example.com"); // undefined
 */
export function parseHost(value: string): ParsedHost | undefined {
  if (value.length === 0 || value.length > MAX_HOST_LENGTH) return undefined;
  let name: string;
  let rest: string;
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    const close = value.indexOf("]");
    if (close === -1) return undefined;
    name = value.slice(1, close).toLowerCase();
    // isIP accepts a zone (`fe80::1%eth0`): it names this host's interface, never a peer's target.
    if (isIP(name) !== 6 || name.indexOf("%") !== -1) return undefined;
    rest = value.slice(close + 1);
    const port = portOf(rest);
    return port === undefined ? undefined : { hostname: name, ipv6: true, port };
  }
  const colon = value.indexOf(":");
  name = colon === -1 ? value : value.slice(0, colon);
  rest = colon === -1 ? "" : value.slice(colon);
  const port = portOf(rest);
  if (port === undefined) return undefined;
  const hostname = hostnameOf(name);
  return hostname === undefined ? undefined : { hostname, ipv6: false, port };
}

/**
 * A registered name or IPv4 address, normalized (lower-case, no trailing dot); undefined when it
 * is neither. Also used to check configured host patterns.
 */
export function hostnameOf(name: string): string | undefined {
  let host = name.toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return undefined;
  if (isIP(host) === 4) return host;
  for (const label of host.split(".")) if (!LABEL.test(label)) return undefined;
  return host;
}

/** `""` or `:digits` (an empty port is allowed by RFC 3986 §3.2.3) → the digits; else undefined. */
function portOf(rest: string): string | undefined {
  if (rest === "" || rest === ":") return "";
  if (!/^:\d{1,5}$/.test(rest)) return undefined;
  return Number(rest.slice(1)) <= 65535 ? rest.slice(1) : undefined;
}

/** `host[:port]` for a URL: brackets around an IPv6 address; the port only when given. */
export function formatHost(host: ParsedHost, withPort = true): string {
  const name = host.ipv6 ? `[${host.hostname}]` : host.hostname;
  return withPort && host.port !== "" ? `${name}:${host.port}` : name;
}

/**
 * The single `Host` header of a header list, or undefined when there is none or more than one
 * (RFC 9112 §3.2: a request with several Host lines must be answered 400).
 */
export function hostHeaderOf(headers: ReadonlyArray<readonly [string, string]>): string | undefined {
  let found: string | undefined;
  for (const [name, value] of headers) {
    if (name !== "host") continue;
    if (found !== undefined) return undefined;
    found = value;
  }
  return found;
}
