import type { Test } from "tap";
import t from "tap";
import { parse as parseReference } from "node:querystring";
import { BodyTooLargeError, ClientDisconnectedError, ProtocolError, RequestValidationError, UnsupportedMediaTypeError } from "../../../lib/errors.js";
import type { Receive, ReceiveEvent } from "../../../layers/adapter/events.js";
import {
  MAX_QUERY_PAIRS,
  headersToObject,
  isJsonContentType,
  parseCookies,
  parseJsonBody,
  parseQuery,
  readBody,
} from "../../../layers/validator/request-inputs.js";
import { jsonErrorOffset } from "../../../layers/validator/json-error-offset.js";

/** A receive channel that yields the given events, then fails the test if asked for more. */
function channel(t: Test, events: ReceiveEvent[]): Receive {
  let i = 0;
  return async () => {
    const event = events[i++];
    if (event === undefined) {
      t.fail("receive() called after the last event");
      return { type: "http.disconnect" };
    }
    return event;
  };
}
const chunk = (text: string, moreBody: boolean): ReceiveEvent => ({ type: "http.request", body: Buffer.from(text), moreBody });

function jsonIssue(t: Test, text: string): { loc: Array<string | number>; type: string; msg: string; ctx?: Record<string, unknown> } | undefined {
  try {
    parseJsonBody(Buffer.from(text), "application/json");
    t.fail(`expected ${JSON.stringify(text)} to be refused`);
  } catch (error) {
    t.type(error, RequestValidationError);
    const issues = (error as RequestValidationError).issues;
    t.equal(issues.length, 1);
    return issues[0];
  }
  return undefined;
}

t.test("parseQuery", async (t) => {
  t.same(parseQuery(""), {});
  t.same(parseQuery("tag=a&tag=b&q=two+words&limit=5"), { tag: ["a", "b"], q: "two words", limit: "5" });
  t.same(parseQuery("a&b=&=c&d==e"), { a: "", b: "", "": "c", d: "=e" }, "blank values kept, like parse_qsl(keep_blank_values=True)");
  t.same(parseQuery("x=%2B%20%C3%A9"), { x: "+ é" });
  t.same(parseQuery("bad=%zz&lone=%E9&mixed=%41%zz&ok=%41"), { bad: "%zz", lone: "%E9", mixed: "%41%zz", ok: "A" }, "malformed escapes kept raw");
  t.same(parseQuery("%zz=1"), { "%zz": "1" });

  const hostile = parseQuery("__proto__=x&__proto__[admin]=1&constructor=y&toString=z");
  t.notOk(Object.prototype.hasOwnProperty.call(hostile, "__proto__"), "no __proto__ key");
  t.equal(hostile.constructor, "y", "constructor is an ordinary key");
  t.equal(hostile.toString, "z");
  t.equal(Object.getPrototypeOf(Object.getPrototypeOf(hostile)), null, "its prototype has none");
  t.same(Object.getOwnPropertyNames(Object.getPrototypeOf(hostile)), [], "and is empty");
  t.notOk("valueOf" in hostile, "nothing inherited");
  t.equal(({} as Record<string, unknown>).admin, undefined, "Object.prototype untouched");
  t.equal(parseQuery("a=1").hasOwnProperty, undefined, "no inherited keys");
  const copy = Object.assign({}, parseQuery("__proto__=x"));
  t.equal(Object.getPrototypeOf(copy), Object.prototype, "copying cannot replace a prototype");

  const many = parseQuery(Array.from({ length: 50_000 }, (_, i) => `a=${i}`).join("&"));
  t.equal((many.a as string[]).length, MAX_QUERY_PAIRS, "pairs past the limit are ignored");
  t.equal((many.a as string[])[0], "0");
  t.equal(Object.keys(parseQuery("&".repeat(998) + "a=1&b=2&c=3")).join(), "a,b", "empty pairs count toward the limit, as in node's querystring");
});

t.test("parseQuery gives what node's querystring.parse gives, except that `+` in a malformed component is a space", async (t) => {
  // Node replaces `+` by `%20` before decoding, so a component its decoder cannot decode comes back
  // with `%20` where the client sent `+`; Python's parse_qsl (what Starlette uses) gives a space, as
  // parseQuery does. The reference marks those components, and they are checked by hand below.
  const MALFORMED = "\u0000";
  const markMalformed = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return MALFORMED;
    }
  };
  const reference = (qs: string): Record<string, unknown> => {
    const parsed = parseReference(qs, "&", "=", { maxKeys: MAX_QUERY_PAIRS, decodeURIComponent: markMalformed });
    delete (parsed as Record<string, unknown>).__proto__;
    return { ...parsed };
  };
  // Pieces a hostile or sloppy client sends: separators in odd places, escapes good and bad,
  // `+`, multi-byte UTF-8 split across escapes, the prototype's keys.
  const pieces = ["a", "b", "q", "=", "=", "&", "&", "+", "%", "%2", "%2B", "%20", "%3D", "%26", "%E9", "%C3%A9", "%zz", "é", "__proto__", "constructor", " "];
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let compared = 0;
  let mismatches = 0;
  for (let i = 0; i < 5000; i++) {
    let qs = "";
    const count = 1 + random(12);
    for (let k = 0; k < count; k++) qs += pieces[random(pieces.length)];
    const expected = JSON.stringify(reference(qs));
    if (expected.includes("\\u0000")) continue;
    compared++;
    const ours = JSON.stringify({ ...parseQuery(qs) });
    if (ours !== expected && mismatches++ < 5) t.fail(`differs on ${JSON.stringify(qs)}: ${ours} vs ${expected}`);
  }
  t.equal(mismatches, 0, `no differences on the ${compared} random query strings without a malformed escape`);
  t.ok(compared > 2000, "most random strings were compared");
  const long = Array.from({ length: 1200 }, (_, i) => (i % 7 === 0 ? "" : `k${i % 50}=${i}`)).join("&");
  t.same({ ...parseQuery(long) }, reference(long), "the pair limit cuts at the same place");

  t.same({ ...parseQuery("a=+%zz+&b+%E9=1&c=%20%zz") }, { a: " %zz ", "b %E9": "1", c: "%20%zz" }, "malformed: `+` decoded, escapes kept as sent");
});

t.test("headersToObject", async (t) => {
  const h = headersToObject([
    ["Accept", "text/html"],
    ["accept", "application/json"],
    ["x-one", "1"],
    ["cookie", "a=1"],
    ["cookie", "b=2"],
    ["__proto__", "x"],
    ["constructor", "c"],
  ]);
  t.same(h, { accept: "text/html, application/json", "x-one": "1", cookie: "a=1; b=2", constructor: "c" });
  t.equal(Object.getPrototypeOf(h), null);
  t.notOk(Object.prototype.hasOwnProperty.call(h, "__proto__"));
  t.same(headersToObject([]), {});
});

t.test("parseCookies", async (t) => {
  t.same(parseCookies(undefined), {});
  t.same(parseCookies(""), {});
  t.same(parseCookies("session=abc; theme=dark"), { session: "abc", theme: "dark" });
  t.same(parseCookies("a=%E4%BD%A0; b=%zz; c=\"quoted\""), { a: "你", b: "%zz", c: '"quoted"' }, "bad escapes kept; quotes are part of the value (RFC 6265 §4.1.1)");
  t.same(parseCookies("a=1; a=2"), { a: "1" }, "first same-named cookie wins");
  t.same(parseCookies(";;; noequals; ok=1; =v"), { ok: "1", "": "v" }, "pairs without = skipped");
  const hostile = parseCookies("__proto__=x; constructor=y");
  t.notOk(Object.prototype.hasOwnProperty.call(hostile, "__proto__"));
  t.equal(hostile.constructor, "y");
});

t.test("readBody", async (t) => {
  t.equal((await readBody(channel(t, [chunk("", false)]), 10)).length, 0, "empty body");
  const one = Buffer.from('{"a":1}');
  const read = await readBody(channel(t, [{ type: "http.request", body: one, moreBody: false }]), 100);
  t.equal(read, one, "a single Buffer chunk is returned as is (no copy)");
  const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
  const fromView = await readBody(channel(t, [{ type: "http.request", body: view, moreBody: false }]), 100);
  t.same([...fromView], [2, 3]);
  t.equal(fromView.buffer, view.buffer, "a Uint8Array chunk is wrapped, not copied");
  const many = await readBody(channel(t, [chunk("ab", true), chunk("", true), chunk("cd", true), chunk("e", false)]), 5);
  t.equal(many.toString(), "abcde", "chunks concatenated; exactly the limit is allowed");
  await t.rejects(readBody(channel(t, [chunk("abc", true), chunk("def", false)]), 5), BodyTooLargeError, "over the limit across chunks");
  await t.rejects(readBody(channel(t, [chunk("abcdef", true)]), 5), BodyTooLargeError, "refused before the last chunk");
  await t.rejects(readBody(channel(t, [chunk("ab", true), { type: "http.disconnect" }]), 5), ClientDisconnectedError);
  await t.rejects(readBody(channel(t, [{ type: "lifespan.startup" }]), 5), ProtocolError);
});

t.test("isJsonContentType", async (t) => {
  for (const ok of ["application/json", "Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8", " application/json ", "application/problem+json", "application/vnd.api+json; ext=1"]) {
    t.ok(isJsonContentType(ok), ok);
  }
  for (const bad of [undefined, "", "application/jsonx", "text/plain", "text/json", "application/x-www-form-urlencoded", "application/+json", "application/a b+json", "multipart/form-data", "application/json5", "json"]) {
    t.notOk(isJsonContentType(bad), String(bad));
  }
});

t.test("parseJsonBody", async (t) => {
  t.same(parseJsonBody(Buffer.from('{"a":[1,"x",null]}'), "application/json; charset=utf-8"), { a: [1, "x", null] });
  t.equal(parseJsonBody(Buffer.from("5"), "application/json"), 5);
  t.equal(parseJsonBody(Buffer.alloc(0), "application/json"), undefined, "empty body is missing");
  t.equal(parseJsonBody(Buffer.alloc(0), undefined), undefined, "empty body is missing whatever the type");
  t.same(parseJsonBody(Buffer.from('\uFEFF{"a":1}'), "application/json"), { a: 1 }, "UTF-8 BOM skipped");
  t.same(parseJsonBody(Buffer.from('{"n":"é"}'), "application/merge-patch+json"), { n: "é" });

  for (const type of ["text/plain", "application/jsonx", undefined, "application/x-www-form-urlencoded"]) {
    t.throws(() => parseJsonBody(Buffer.from('{"a":1}'), type), UnsupportedMediaTypeError, String(type));
  }

  t.match(jsonIssue(t, '{"a":}'), { loc: ["body", 5], msg: "JSON decode error", type: "json_invalid", ctx: { error: /Unexpected token/ } });
  t.notMatch(JSON.stringify(jsonIssue(t, '{"secret":}')), /secret/, "the input is not echoed in the error");
  t.match(jsonIssue(t, '{"a":1'), { loc: ["body", 6] }, "truncated: position at the end");
  t.match(jsonIssue(t, "{a:1}"), { loc: ["body", 1] });
  t.match(jsonIssue(t, '{"a":1}x'), { loc: ["body", 7] });
  t.match(jsonIssue(t, "   "), { loc: ["body", 3] }, "whitespace only is invalid, not missing");
  t.match(jsonIssue(t, "[".repeat(100_000)), { loc: ["body", 100_000] }, "deep nesting does not overflow");

  const proto = jsonIssue(t, '{"user":{"name":"x","__proto__":{"isAdmin":true}}}');
  t.match(proto, { loc: ["body", "user", "__proto__"], type: "value_error" });
  t.match(jsonIssue(t, '[{"a":1},{"\\u005f_proto__":{}}]'), { loc: ["body", 1, "__proto__"] }, "escaped key");
  t.match(jsonIssue(t, '{"constructor":{"prototype":{"x":1}}}'), { loc: ["body", "constructor", "prototype"] });
  t.same(parseJsonBody(Buffer.from('{"constructor":"fine","proto":1,"s":"\\u0041"}'), "application/json"), { constructor: "fine", proto: 1, s: "A" });
  t.equal(({} as Record<string, unknown>).isAdmin, undefined);
});

t.test("jsonErrorOffset agrees with JSON.parse on validity", async (t) => {
  const valid = ['{"a":[1,-2.5e+3,true,false,null,"\\u00e9\\n"]}', "[]", "{}", " 0 ", '"x"', '{"a":{"b":[[]]}}'];
  for (const text of valid) t.equal(jsonErrorOffset(text), -1, text);
  const invalid: Array<[string, number]> = [
    ["", 0],
    ["[1,]", 3],
    ["[1 2]", 3],
    ["01", 1],
    ["-", 1],
    ["1.", 2],
    ["1e", 2],
    ['"a\\x"', 3],
    ['"\\u12g4"', 5],
    ['"tab\there"', 4],
    ['{"a" 1}', 5],
    ['{"a":1,}', 7],
    ["[1}", 2],
    ["tru", 0],
    ["nul", 0],
  ];
  for (const [text, offset] of invalid) {
    t.throws(() => JSON.parse(text), SyntaxError, `really invalid: ${text}`);
    t.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
  }
});
