/** safeCompare: equality of strings and bytes, different lengths, UTF-8; no timing assertions. */
import t from "tap";
import { safeCompare } from "../../../lib/security/safe-compare.js";

t.test("equal and unequal values of any lengths", async (t) => {
  t.equal(safeCompare("s3cret", "s3cret"), true);
  t.equal(safeCompare("", ""), true);
  t.equal(safeCompare("s3cret", "s3creT"), false);
  t.equal(safeCompare("s3cret", "s3cret "), false, "a longer value with the same prefix");
  t.equal(safeCompare("s3cret", ""), false);
  t.equal(safeCompare("a".repeat(10_000), "a".repeat(9_999) + "b"), false);
  t.equal(safeCompare("é", Buffer.from("é", "utf8")), true, "strings compare as UTF-8 bytes");
  t.equal(safeCompare("é", "e\u0301"), false, "no normalization: bytes differ");
  t.equal(safeCompare(new Uint8Array([1, 2, 3]), Buffer.from([1, 2, 3])), true);
  t.equal(safeCompare(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2])), false);
});
