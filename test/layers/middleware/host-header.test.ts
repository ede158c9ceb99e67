/** parseHost and friends: what counts as a Host header value, and its normalized form. */
import t from "tap";
import { formatHost, hostHeaderOf, hostnameOf, parseHost } from "../../../layers/middleware/host-header.js";

t.test("valid hosts are normalized: lower case, no trailing dot, IPv6 without brackets", async (t) => {
  t.same(parseHost("Example.COM"), { hostname: "example.com", ipv6: false, port: "" });
  t.same(parseHost("example.com.:8080"), { hostname: "example.com", ipv6: false, port: "8080" });
  t.same(parseHost("example.com:"), { hostname: "example.com", ipv6: false, port: "" }, "an empty port is allowed (RFC 3986)");
  t.same(parseHost("127.0.0.1:80"), { hostname: "127.0.0.1", ipv6: false, port: "80" });
  t.same(parseHost("[::1]:8000"), { hostname: "::1", ipv6: true, port: "8000" });
  t.same(parseHost("[FE80::A]"), { hostname: "fe80::a", ipv6: true, port: "" });
  t.same(parseHost("my_service-1.internal"), { hostname: "my_service-1.internal", ipv6: false, port: "" });
  t.same(parseHost("a:65535")?.port, "65535");
});

t.test("anything that is not host[:port] is undefined", async (t) => {
  const bad = [
    "", "evil.com#example.com", "a@example.com", "example.com/x", "example.com?x", "exa mple.com", "example.com:80:80",
    "example.com:abc", "example.com:65536", "example.com:123456", "::1", "[::1", "[::1]x", "[1.2.3.4]", "[fe80::1%eth0]",
    "-example.com", "example-.com", "a..b", ".example.com", "example.com\r\nx: y", "ex\u00e4mple.com", `${"a".repeat(64)}.com`,
    `${"a.".repeat(130)}com`, "x".repeat(300), "\t", "example.com ",
  ];
  for (const value of bad) t.equal(parseHost(value), undefined, JSON.stringify(value));
  t.equal(parseHost("[::1]:")?.port, "", "[::1]: has an empty port");
});

t.test("hostnameOf, formatHost, hostHeaderOf", async (t) => {
  t.equal(hostnameOf("A.b."), "a.b");
  t.equal(hostnameOf("."), undefined);
  t.equal(formatHost({ hostname: "::1", ipv6: true, port: "80" }), "[::1]:80");
  t.equal(formatHost({ hostname: "::1", ipv6: true, port: "80" }, false), "[::1]");
  t.equal(formatHost({ hostname: "a.b", ipv6: false, port: "" }), "a.b");
  t.equal(hostHeaderOf([["accept", "x"], ["host", "a"]]), "a");
  t.equal(hostHeaderOf([["accept", "x"]]), undefined);
  t.equal(hostHeaderOf([["host", "a"], ["host", "a"]]), undefined, "two Host lines: none usable");
});
