/**
 * Type-level tests: this file only compiles (`npx tsc --noEmit`) when inference is right, and every
 * `@ts-expect-error` marks a call the types must refuse. At run time it only checks that the calls
 * it builds are what they claim.
 */
import t from "tap";
import type { AsyncResult } from "../../../lib/tasks/async-result.js";
import { chain, chord, group, type Chain, type Group } from "../../../lib/tasks/canvas.js";
import type { GroupResult } from "../../../lib/tasks/group-result.js";
import { MemoryResultBackend } from "../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import type { TaskSignature } from "../../../lib/tasks/signature.js";
import type { Task } from "../../../lib/tasks/task.js";
import { TaskQueue } from "../../../lib/tasks/task-queue.js";

/** True only when X and Y are the same type (not merely assignable). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

const queue = new TaskQueue({ broker: new MemoryBroker(), backend: new MemoryResultBackend() });
const add = queue.task("math.add", async (x: number, y: number) => x + y);
const mul = queue.task("math.mul", (x: number, y: number) => x * y);
const length = queue.task("text.length", (text: string) => text.length);
const upper = queue.task("text.upper", (text: string) => text.toUpperCase());
const sum = queue.task("math.sum", (xs: number[]) => xs.reduce((a, b) => a + b, 0));
const scale = queue.task("math.scale", (x: number, factor: number = 10) => x * factor);
const constant = queue.task("constant", () => 42);

t.test("task definition: arguments and result flow from the function", async (t) => {
  expectType<Equal<typeof add, Task<[x: number, y: number], number>>>();
  expectType<Equal<typeof mul, Task<[x: number, y: number], number>>>();
  expectType<Equal<typeof constant, Task<[], number>>>();
  const result = await add.delay(2, 3);
  expectType<Equal<typeof result, AsyncResult<number>>>();
  expectType<Equal<ReturnType<typeof result.get>, Promise<number>>>();
  expectType<Equal<ReturnType<typeof add.run>, Promise<number>>>();
  // @ts-expect-error a string where a number is declared
  void add.delay(2, "3");
  // @ts-expect-error one argument missing
  void add.delay(2);
  // @ts-expect-error one argument too many
  void add.delay(2, 3, 4);
  // @ts-expect-error args of applyAsync are typed too
  void add.applyAsync({ args: ["2", 3] });
  const sent = await queue.sendTask("math.add", { args: [1, 2] });
  expectType<Equal<typeof sent, AsyncResult<unknown>>>();
  expectType<Equal<typeof queue.asyncResult<string>, (id: string) => AsyncResult<string>>>();
  t.pass("compiled");
});

t.test("signatures: complete, partial (previous result prepended), or both when trailing parameters are optional", async (t) => {
  const complete = add.s(2, 3);
  expectType<Equal<typeof complete, TaskSignature<[], number>>>();
  const link = mul.s(10);
  expectType<Equal<typeof link, TaskSignature<[number], number>>>();
  const textLink = length.s();
  expectType<Equal<typeof textLink, TaskSignature<[string], number>>>();
  const either = scale.s(5);
  expectType<Equal<typeof either, TaskSignature<[] | [number], number>>>();
  const none = constant.s();
  expectType<Equal<typeof none, TaskSignature<[], number>>>();
  const set = add.s(1, 2).set({ countdown: 5 });
  expectType<Equal<typeof set, TaskSignature<[], number>>>();
  // @ts-expect-error wrong type in a partial
  void mul.s("10");
  // @ts-expect-error too many arguments
  void mul.s(1, 2, 3);
  // @ts-expect-error a task without arguments takes none in s()
  void constant.s(1);
  // @ts-expect-error only a complete signature can be published alone
  void link.applyAsync();
  t.equal(complete.args.length, 2);
  t.equal(link.args.length, 1);
});

t.test("chain: each link must take the previous result; the result is the last link's", async (t) => {
  const c1 = chain(add.s(2, 3), mul.s(10));
  expectType<Equal<typeof c1, Chain<number>>>();
  const c2 = chain(add.s(2, 3), mul.s(10), scale.s(), scale.s(2));
  expectType<Equal<typeof c2, Chain<number>>>();
  const c3 = chain(upper.s("abc"), length.s(), mul.s(3));
  expectType<Equal<typeof c3, Chain<number>>>();
  const c4 = chain(length.s("abc"));
  expectType<Equal<typeof c4, Chain<number>>>();
  const result = await c3.applyAsync();
  expectType<Equal<typeof result, AsyncResult<number>>>();
  // By name: open types, any position.
  const c5 = chain(queue.signature("a"), queue.signature("b"));
  expectType<Equal<typeof c5, Chain<unknown>>>();
  // @ts-expect-error a number fed to a task taking a string
  void chain(add.s(2, 3), length.s());
  // @ts-expect-error a complete signature as a link would get an extra first argument
  void chain(add.s(2, 3), add.s(4, 5));
  // @ts-expect-error a partial signature cannot start a chain
  void chain(mul.s(10), add.s(1));
  // @ts-expect-error the error is found deep in the chain too
  void chain(add.s(1, 2), mul.s(2), mul.s(3), upper.s());
  // @ts-expect-error an unknown previous result is not a string
  void chain(queue.signature("a"), length.s());
  t.pass("compiled");
});

t.test("group and chord: results in order, the callback takes their list", async (t) => {
  const g1 = group(add.s(1, 2), upper.s("x"));
  expectType<Equal<typeof g1, Group<[number, string]>>>();
  const g2 = group([1, 2, 3].map((n) => add.s(n, n)));
  expectType<Equal<typeof g2, Group<number[]>>>();
  const g3 = group([add.s(1, 2), upper.s("x")]);
  expectType<Equal<typeof g3, Group<[number, string]>>>();
  const results = await g1.applyAsync();
  expectType<Equal<typeof results, GroupResult<[number, string]>>>();
  expectType<Equal<Awaited<ReturnType<typeof results.get>>, [number, string]>>();
  expectType<Equal<(typeof results.results)[1], AsyncResult<string>>>();
  // @ts-expect-error a partial signature cannot be a group member (nothing feeds it)
  void group(mul.s(2));

  const c1 = chord([add.s(1, 1), add.s(2, 2)], sum.s());
  expectType<Equal<typeof c1, import("../../../lib/tasks/canvas.js").Chord<number>>>();
  const c2 = chord(g2, sum.s());
  const r2 = await c2.applyAsync();
  expectType<Equal<typeof r2, AsyncResult<number>>>();
  // @ts-expect-error a string among the results a number[] callback receives
  void chord([add.s(1, 1), upper.s("x")], sum.s());
  // @ts-expect-error the callback receives a list, not one number
  void chord([add.s(1, 1)], mul.s(2));
  t.pass("compiled");
});
