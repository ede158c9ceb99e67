/**
 * The answer check run before any load: each contender is asked every workload once (and for an
 * invalid item and an invalid id), and a contender that answers wrongly fails the run instead of
 * winning it. The expectations are data (`ANSWER_CASES`) and the judging is pure
 * ({@link judgeAnswer}), so the harness test can show that a wrong answer is rejected.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { ITEM_BODY } from "./workloads.js";

/** One request and what a correct server answers. */
export interface AnswerCase {
  readonly name: string;
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
  /** Accepted statuses (validation failures: FastAPI and laminar say 422, Fastify 400). */
  readonly statuses: readonly number[];
  /** The JSON body expected (deep equality), or a predicate on the parsed body; undefined: any body. */
  readonly json?: unknown;
  readonly check?: (value: unknown) => string | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** What each contender must answer. */
export const ANSWER_CASES: readonly AnswerCase[] = [
  { name: "GET /hello", method: "GET", path: "/hello", statuses: [200], json: { message: "hello" } },
  { name: "GET /items/:id with q", method: "GET", path: "/items/42?q=hello", statuses: [200], json: { id: 42, q: "hello" } },
  { name: "GET /items/:id without q", method: "GET", path: "/items/7", statuses: [200], json: { id: 7, q: null } },
  { name: "GET /items/:id, id not an integer", method: "GET", path: "/items/4x2", statuses: [400, 422] },
  {
    name: "POST /items",
    method: "POST",
    path: "/items",
    body: ITEM_BODY,
    statuses: [201],
    check: (value) => {
      if (!isRecord(value)) return "not a JSON object";
      if (!Number.isInteger(value.id)) return "no integer id";
      const { id: _id, ...rest } = value;
      return isDeepStrictEqual(rest, { name: "pen", price: 1.5, tags: ["office", "blue"] })
        ? undefined
        : "fields differ from the item sent, or an unknown field was not dropped";
    },
  },
  { name: "POST /items, invalid item", method: "POST", path: "/items", body: '{"name":"","price":-1,"tags":"x"}', statuses: [400, 422] },
  { name: "POST /items, not JSON", method: "POST", path: "/items", body: '{"name":', statuses: [400, 422] },
  { name: "GET /deps", method: "GET", path: "/deps", statuses: [200], json: { user: "user-42", role: "admin", logged: 1 } },
];

/** Why an answer is wrong, or undefined when it is right. */
export function judgeAnswer(expected: AnswerCase, status: number, text: string): string | undefined {
  if (!expected.statuses.includes(status)) return `status ${status}, expected ${expected.statuses.join(" or ")}`;
  if (expected.json === undefined && expected.check === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `body is not JSON: ${JSON.stringify(text.slice(0, 80))}`;
  }
  if (expected.json !== undefined && !isDeepStrictEqual(value, expected.json)) {
    return `body ${text.slice(0, 120)}, expected ${JSON.stringify(expected.json)}`;
  }
  const problem = expected.check?.(value);
  return problem === undefined ? undefined : `${problem}: ${text.slice(0, 120)}`;
}

/** A contender answered wrongly. */
export class WrongAnswerError extends Error {
  constructor(
    readonly contender: string,
    readonly problems: readonly string[],
  ) {
    super(`${contender} answers wrongly:\n  ${problems.join("\n  ")}`);
    this.name = "WrongAnswerError";
  }
}

/**
 * Asks the server at `baseUrl` every case; throws {@link WrongAnswerError} listing every wrong
 * answer. Each request is bounded (5 s).
 */
export async function checkAnswers(contender: string, baseUrl: string, cases: readonly AnswerCase[] = ANSWER_CASES): Promise<void> {
  const problems: string[] = [];
  for (const expected of cases) {
    try {
      const response = await fetch(baseUrl + expected.path, {
        method: expected.method,
        headers: expected.body === undefined ? {} : { "content-type": "application/json" },
        body: expected.body,
        signal: AbortSignal.timeout(5_000),
      });
      const problem = judgeAnswer(expected, response.status, await response.text());
      if (problem !== undefined) problems.push(`${expected.name}: ${problem}`);
    } catch (error) {
      problems.push(`${expected.name}: request failed (${(error as Error).message})`);
    }
  }
  if (problems.length > 0) throw new WrongAnswerError(contender, problems);
}
