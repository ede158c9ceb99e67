// Type-level tests: `npm test` type-checks test/ before running tap, so a wrong inference fails
// the build here. The runtime assertions only keep tap counting the file.
import t from "tap";
import { Type } from "@sinclair/typebox";
import { dependency, type Provided, type ResolvedDeps } from "../../../layers/di/dependency.js";

class Clock {
  now(): number {
    return 0;
  }
}

const depA = dependency({}, () => ({ id: 1, label: "a" }));
const asyncDep = dependency({}, async () => 42);
const genDep = dependency({}, function* () {
  yield "conn";
});
const asyncGenDep = dependency({}, async function* () {
  yield new Date(0);
});

const typed = dependency(
  { deps: { a: depA, n: asyncDep, g: genDep, ag: asyncGenDep, clock: Clock }, query: Type.Object({ q: Type.String() }) },
  ({ deps, query, headers }) => {
    const id: number = deps.a.id;
    const label: string = deps.a.label;
    const n: number = deps.n;
    const g: string = deps.g;
    const ag: Date = deps.ag;
    const now: number = deps.clock.now();
    const q: string = query.q;
    // @ts-expect-error -- `a` has no `missing` field
    deps.a.missing;
    // @ts-expect-error -- no such dependency declared
    deps.b;
    // @ts-expect-error -- q is a string
    const wrong: number = query.q;
    // @ts-expect-error -- the query schema declares only q
    query.other;
    const h: unknown = headers["x-any"]; // undeclared inputs are loose records
    return { id, label, n, g, ag, now, q, wrong, h };
  },
);

// The provided type unwraps promises and generators.
const p1: Provided<typeof asyncDep> = 1;
const p2: Provided<typeof genDep> = "s";
// @ts-expect-error -- an async dependency provides a number, not a promise
const p3: Provided<typeof asyncDep> = Promise.resolve(1);
const resolved: ResolvedDeps<{ a: typeof depA; c: typeof Clock }> = { a: { id: 2, label: "b" }, c: new Clock() };
// @ts-expect-error -- wrong value for a class token
const badResolved: ResolvedDeps<{ c: typeof Clock }> = { c: "not a clock" };

t.test("dependency() records its declaration", async (t) => {
  t.equal(typed.kind, "laminar.dependency");
  t.same(Object.keys(typed.deps), ["a", "n", "g", "ag", "clock"]);
  t.ok(typed.inputs.query);
  t.equal(typed.cache, true);
  t.equal(typed.exit, "after-response");
  t.ok([p1, p2, p3, resolved, badResolved].length === 5);
});
