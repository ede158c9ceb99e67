import t from "tap";
import { Type } from "@sinclair/typebox";
import { compileInputChecks, type InputTarget } from "../../../layers/handler/input-checks.js";
import { AjvValidator } from "../../../layers/validator/ajv-validator.js";

const validator = new AjvValidator();
const Id = Type.Object({ id: Type.Integer() });
const Limit = Type.Object({ limit: Type.Integer({ maximum: 100 }) });
const Agent = Type.Object({ "x-agent": Type.String({ minLength: 2 }) });
const Session = Type.Object({ session: Type.String({ minLength: 2 }) });

function target(parts: Partial<InputTarget> = {}): InputTarget {
  return { params: { id: "7" }, query: { limit: "5" }, headers: { "x-agent": "cli" }, cookies: { session: "abc" }, ...parts };
}

t.test("no schema: nothing to run", async (t) => {
  t.equal(compileInputChecks({}, validator), null);
});

t.test("one, two, three and four parts: each coerced into the target", async (t) => {
  const all = { params: Id, query: Limit, headers: Agent, cookies: Session };
  const cases: Array<[string, Partial<typeof all>]> = [
    ["params", { params: Id }],
    ["params, query", { params: Id, query: Limit }],
    ["params, query, headers", { params: Id, query: Limit, headers: Agent }],
    ["all four", all],
  ];
  for (const [name, inputs] of cases) {
    const check = compileInputChecks(inputs, validator)!;
    const into = target();
    t.equal(check(into), undefined, `${name}: no issues`);
    t.same(into.params, { id: 7 }, `${name}: the id coerced`);
    if (inputs.query) t.same(into.query, { limit: 5 }, `${name}: the limit coerced`);
    else t.same(into.query, { limit: "5" }, `${name}: a part without a schema is left alone`);
  }
});

t.test("path parameters are copied: the scope's strings stay strings", async (t) => {
  const params = { id: "7" };
  const into = target({ params });
  compileInputChecks({ params: Id }, validator)!(into);
  t.same(params, { id: "7" }, "the original object is untouched");
  t.same(into.params, { id: 7 });
  t.not(into.params, params);
});

t.test("every failing part reported, in path, query, header, cookie order, for any subset", async (t) => {
  const bad = target({ params: { id: "x" }, query: { limit: "500" }, headers: { "x-agent": "a" }, cookies: { session: "" } });
  const all = compileInputChecks({ cookies: Session, headers: Agent, query: Limit, params: Id }, validator)!;
  t.same((all({ ...bad }) ?? []).map((issue) => issue.loc[0]), ["path", "query", "header", "cookie"]);
  const two = compileInputChecks({ query: Limit, cookies: Session }, validator)!;
  t.same((two({ ...bad }) ?? []).map((issue) => issue.loc[0]), ["query", "cookie"]);
  const three = compileInputChecks({ params: Id, headers: Agent, cookies: Session }, validator)!;
  t.same((three({ ...bad, headers: { "x-agent": "fine" } }) ?? []).map((issue) => issue.loc.join(".")), ["path.id", "cookie.session"], "a passing part in between adds nothing");
  const one = compileInputChecks({ query: Limit }, validator)!;
  t.same((one({ ...bad }) ?? []).map((issue) => issue.loc.join(".")), ["query.limit"]);
});
