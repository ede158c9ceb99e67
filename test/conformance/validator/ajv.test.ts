import t from "tap";
import { AjvValidator } from "../../../layers/validator/ajv-validator.js";
import { validatorConformance } from "./validator-conformance.js";

await validatorConformance(t, "AjvValidator", () => new AjvValidator());

t.test("AjvValidator: extra annotation keywords", async (t) => {
  t.throws(() => new AjvValidator().compile({ type: "string", "x-internal": true }, { location: "body", coerce: false }));
  const v = new AjvValidator({ keywords: ["x-internal"] });
  t.ok(v.compile({ type: "string", "x-internal": true }, { location: "body", coerce: false })("a").ok);
  t.ok(new AjvValidator().compile({ type: "string", example: "a" }, { location: "body", coerce: false })("a").ok, "example is always accepted");
});
