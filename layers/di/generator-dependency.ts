/**
 * Dependencies with `yield` (FastAPI's `Depends` on a generator): how the first yielded value is
 * taken and how the code after the `yield` is run as the dependency's cleanup.
 *
 * @module
 */
import { InvalidDependencyError } from "../../lib/errors.js";
import type { Cleanup } from "./exit-stack.js";

/** True for a native generator object (not merely an iterator: a `Map` iterator is a value). */
export function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  return typeof value === "object" && value !== null && Object.prototype.toString.call(value) === "[object Generator]";
}

/** True for a native async generator object. */
export function isAsyncGenerator(value: unknown): value is AsyncGenerator<unknown, unknown, unknown> {
  return typeof value === "object" && value !== null && Object.prototype.toString.call(value) === "[object AsyncGenerator]";
}

/** True for anything `await` would wait for. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function didNotYield(name: string): Error {
  return new InvalidDependencyError(name, "its generator returned without yielding a value");
}

function yieldedTwice(name: string): Error {
  return new InvalidDependencyError(name, "its generator yielded more than once (a dependency yields its value exactly once)");
}

/** Takes the first value of a sync generator; throws when it finishes without yielding. */
export function firstYield(gen: Generator<unknown, unknown, unknown>, name: string): unknown {
  const step = gen.next();
  if (step.done) throw didNotYield(name);
  return step.value;
}

/** Takes the first value of an async generator; rejects when it finishes without yielding. */
export async function firstYieldAsync(gen: AsyncGenerator<unknown, unknown, unknown>, name: string): Promise<unknown> {
  const step = await gen.next();
  if (step.done) throw didNotYield(name);
  return step.value;
}

/*
 * Resuming a generator for cleanup. Without an error we resume it with `next()`, not `return()`:
 * `return()` would only run `finally` blocks and silently skip plain code after the `yield`
 * (`yield conn; conn.release();`), which the dependency docs promise is the cleanup. contextlib's
 * `_GeneratorContextManager.__exit__` does the same (`next(self.gen)`, then "generator didn't stop").
 * With an error we `throw()` it into the generator at the `yield`, so `catch` blocks can roll back;
 * a generator that swallows it simply finishes.
 */

/** The cleanup of a sync generator dependency, for the exit stack. */
export function generatorCleanup(gen: Generator<unknown, unknown, unknown>, name: string): Cleanup {
  return (error) => {
    const step = error === undefined ? gen.next() : gen.throw(error);
    if (!step.done) {
      gen.return(undefined);
      throw yieldedTwice(name);
    }
  };
}

/** The cleanup of an async generator dependency, for the exit stack. */
export function asyncGeneratorCleanup(gen: AsyncGenerator<unknown, unknown, unknown>, name: string): Cleanup {
  return async (error) => {
    const step = error === undefined ? await gen.next() : await gen.throw(error);
    if (!step.done) {
      await gen.return(undefined);
      throw yieldedTwice(name);
    }
  };
}
