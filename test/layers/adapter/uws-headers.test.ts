import t from "tap";
import type { HeaderList } from "../../../layers/adapter/events.js";
import { invalidHeader, isFramingHeader } from "../../../layers/adapter/uws-headers.js";

t.test("valid lists pass, every kind of bad pair is named", async (t) => {
  t.equal(invalidHeader([["content-type", "application/json"], ["x-id", "é ok\t"]]), null);
  t.match(invalidHeader([["content-type", "a"], ["bad name", "x"]]), /invalid header name "bad name"/);
  t.match(invalidHeader([["x-split", "a\r\nset-cookie: evil=1"]]), /invalid character in header "x-split"/);
  t.match(invalidHeader([["x-nul", "a\0b"]]), /invalid character/);
  t.match(invalidHeader([["x", 5 as unknown as string]]), /must be a \[string, string\] pair/);
  t.match(invalidHeader([["", "x"]]), /invalid header name ""/);
});

t.test("names already accepted are remembered, and nothing bad ever is", async (t) => {
  // Many distinct valid names (past the remembered set's bound), each accepted twice.
  const names = Array.from({ length: 1000 }, (_, i) => `x-name-${i}`);
  for (const round of ["first", "second"]) {
    t.equal(names.filter((name) => invalidHeader([[name, "v"]]) !== null).length, 0, `all 1,000 accepted the ${round} time`);
  }
  // A remembered name still has its value checked.
  t.match(invalidHeader([["x-name-1", "bad\nvalue"]]), /invalid character in header "x-name-1"/);
  // Names that look like remembered ones but are not tokens.
  for (const bad of ["x-name-1 ", " x-name-1", "x-name-1:", "x-name-(1)", "content-type\r\n"]) {
    t.match(invalidHeader([[bad, "v"]]), /invalid header name/, `${JSON.stringify(bad)} refused`);
    t.match(invalidHeader([[bad, "v"]]), /invalid header name/, `${JSON.stringify(bad)} refused again`);
  }
  const list: HeaderList = [["content-type", "application/json"], ["content-length", "12"]];
  for (let i = 0; i < 3; i++) t.equal(invalidHeader(list), null, "the common response list, over and over");
});

t.test("framing headers are recognised in any case, and nothing else is", async (t) => {
  t.ok(isFramingHeader("content-length"));
  t.ok(isFramingHeader("Content-Length"));
  t.ok(isFramingHeader("TRANSFER-ENCODING"));
  t.notOk(isFramingHeader("content-type"));
  t.notOk(isFramingHeader("content-lengthx"));
  t.notOk(isFramingHeader("x-content-length"));
});
