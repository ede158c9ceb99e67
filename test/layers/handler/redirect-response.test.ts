/** RedirectResponse's Location: encoded once, whatever the caller already encoded. */
import t from "tap";
import { RedirectResponse, encodeLocation } from "../../../layers/handler/responses.js";

t.test("characters a URI cannot hold are encoded, reserved ones and existing escapes are kept", async (t) => {
  const cases: Array<[string, string]> = [
    ["/elsewhere path", "/elsewhere%20path"],
    ["/a%20b", "/a%20b"],
    ["/a%20b c", "/a%20b%20c"],
    ["/caf%C3%A9", "/caf%C3%A9"],
    ["/café", "/caf%C3%A9"],
    ["/100%", "/100%25"],
    ["/100%zz", "/100%25zz"],
    ["/%2", "/%252"],
    ["https://example.com/p?q=a b&r=%2F#frag", "https://example.com/p?q=a%20b&r=%2F#frag"],
    ['/"quoted"<tag>', "/%22quoted%22%3Ctag%3E"],
    ["", ""],
  ];
  for (const [input, expected] of cases) t.equal(encodeLocation(input), expected, JSON.stringify(input));
});

t.test("header injection is impossible: CR and LF are encoded", async (t) => {
  t.equal(encodeLocation("/x\r\nset-cookie: a=1"), "/x%0D%0Aset-cookie:%20a=1");
});

t.test("RedirectResponse: 307 by default, status kept, Location encoded", async (t) => {
  const redirect = new RedirectResponse("/a%20b c");
  t.equal(redirect.status, 307);
  t.same(redirect.headers.find(([name]) => name === "location"), ["location", "/a%20b%20c"]);
  t.equal(new RedirectResponse("/", { status: 303 }).status, 303);
});
