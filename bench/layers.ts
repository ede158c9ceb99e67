/**
 * Per-layer cost: the same route (`GET /items/{id}?q=hello` → `{"id":42,"q":"hello"}`) served by
 * the pipeline with the layers switched on one at a time, each step's extra time per request
 * printed in µs, so a user sees what each layer costs:
 *
 *   bare app        an event-interface app that sends the answer itself
 *   + middleware    the error/exception layer around it (laminar's fold with no user middleware)
 *   + router        find-my-way matching `/items/{id}` and dispatching (RouterApp)
 *   + handler       the compiled route: request context, the handler, JSON.stringify
 *   + DI            the `/deps` workload's three dependencies (request-scoped service, function
 *                   dependency, its sub-dependency) resolved for the handler
 *   + validation    the params and query schemas (id coerced to an integer)
 *   + serializer    a response schema (fast-json-stringify instead of JSON.stringify)
 *
 * The measurement is in-process: the event-interface app is called directly with a fresh fake
 * scope, a `receive` that yields an empty body and a `send` that accepts synchronously, many
 * times per batch, the configurations interleaved batch by batch, and the median of several
 * batches kept. No sockets, so the numbers are the layers' own cost, not the server's or the
 * kernel's, and far steadier than a socket benchmark on a virtual machine. The "+ serializer"
 * step can be negative: a compiled serializer may beat `JSON.stringify`.
 *
 * Run alone: `node dist/bench/layers.js [--quick]`; `bench/run.ts` runs it after the contenders.
 *
 * @module
 */
import "reflect-metadata";
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import type { App as EventApp, HttpScope, Receive, Send, SendEvent } from "../layers/adapter/events.js";
import { SENT } from "../layers/adapter/events.js";
import { compose } from "../layers/middleware/middleware.js";
import { errorMiddleware } from "../layers/middleware/error-middleware.js";
import { defaultExceptionHandlers } from "../layers/middleware/exception-middleware.js";
import { RouterApp } from "../layers/router/router-app.js";
import { dependency } from "../layers/di/dependency.js";
import { App } from "../lib/app.js";
import { silentLogger } from "../lib/logger.js";
import { median } from "./aggregate.js";
import { ItemParams, ItemQuery } from "./apps/items-schema.js";
import { RequestLog, currentUser, settings } from "./apps/deps-work.js";

/** The answer every configuration must give. */
export const LAYER_ROUTE_ANSWER = '{"id":42,"q":"hello"}';

/** One configuration: a label and its app. */
export interface LayerStep {
  readonly label: string;
  readonly app: EventApp;
}

/** One step's result. */
export interface LayerCost {
  label: string;
  /** Median µs per request of the whole configuration. */
  totalMicros: number;
  /** What this step added to the previous one, µs per request. */
  addedMicros: number;
}

/** The results and how they were measured. */
export interface LayerReport {
  method: string;
  batches: number;
  iterationsPerBatch: number;
  steps: LayerCost[];
}

const ItemEcho = Type.Object({ id: Type.Integer(), q: Type.Union([Type.String(), Type.Null()]) });

function scope(): HttpScope {
  return {
    type: "http",
    method: "GET",
    path: "/items/42",
    rawPath: "/items/42",
    queryString: "q=hello",
    headers: [["host", "bench"]],
    httpVersion: "1.1",
    scheme: "http",
    client: null,
    server: null,
    rootPath: "",
    state: {},
  };
}

const EMPTY = new Uint8Array(0);
const receive: Receive = () => Promise.resolve({ type: "http.request", body: EMPTY, moreBody: false });

/** The status and body of the last response sent through {@link send}. */
let lastStatus = 0;
let lastBody = "";
const send: Send = (event: SendEvent) => {
  if (event.type === "http.response.start") lastStatus = event.status;
  else if (event.type === "http.response.body") lastBody = typeof event.body === "string" ? event.body : Buffer.from(event.body ?? EMPTY).toString();
  return SENT;
};

/** The bare app: the answer sent through the event interface, nothing else. */
const bareApp: EventApp = (_scope, _receive, out) => {
  const body = JSON.stringify({ id: 42, q: "hello" });
  const started = out({ type: "http.response.start", status: 200, headers: [["content-type", "application/json"], ["content-length", String(body.length)]] });
  return started === SENT ? out({ type: "http.response.body", body }) : started.then(() => out({ type: "http.response.body", body }));
};

const errorLayer = errorMiddleware({ logger: silentLogger, exceptions: defaultExceptionHandlers() });

/** The configurations, from the bare app to the whole route. */
export function layerSteps(): LayerStep[] {
  const settingsDep = dependency({ name: "settings" }, () => settings());
  const userDep = dependency({ name: "currentUser", deps: { config: settingsDep } }, ({ deps }) => currentUser(deps.config));
  const routed = new RouterApp();
  routed.route(["GET"], "/items/{id}", bareApp);
  const echo = ({ params, query }: { params: Record<string, unknown>; query: Record<string, unknown> }): { id: number; q: string | null } => ({
    id: Number(params.id),
    q: (query.q as string | undefined) ?? null,
  });
  const laminar = (declare: (app: App) => void): EventApp => {
    const app = new App({ logger: silentLogger });
    app.provide(RequestLog, "request");
    declare(app);
    return app.build();
  };
  const deps = { user: userDep, log: RequestLog };
  return [
    { label: "bare app", app: bareApp },
    { label: "+ middleware", app: compose([errorLayer], bareApp) },
    { label: "+ router", app: compose([errorLayer], routed.handle) },
    { label: "+ handler", app: laminar((app) => app.get("/items/{id}", (ctx) => echo(ctx))) },
    { label: "+ DI", app: laminar((app) => app.get("/items/{id}", { deps }, (ctx) => echo(ctx))) },
    { label: "+ validation", app: laminar((app) => app.get("/items/{id}", { deps, params: ItemParams, query: ItemQuery }, (ctx) => echo(ctx))) },
    {
      label: "+ serializer",
      app: laminar((app) => app.get("/items/{id}", { deps, params: ItemParams, query: ItemQuery, response: ItemEcho }, (ctx) => echo(ctx))),
    },
  ];
}

/** Calls `app` once and checks its answer; throws when it is wrong. */
export async function checkLayerStep(step: LayerStep): Promise<void> {
  lastStatus = 0;
  lastBody = "";
  await step.app(scope(), receive, send);
  if (lastStatus !== 200 || lastBody !== LAYER_ROUTE_ANSWER) {
    throw new Error(`layer step "${step.label}" answered ${lastStatus} ${lastBody}, expected 200 ${LAYER_ROUTE_ANSWER}`);
  }
}

async function batch(app: EventApp, iterations: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await app(scope(), receive, send);
  return Number(process.hrtime.bigint() - started) / 1000 / iterations;
}

/** Measures every step: warm-up, then `batches` interleaved batches of `iterations` requests each. */
export async function measureLayers(options: { batches?: number; iterations?: number } = {}): Promise<LayerReport> {
  const batches = options.batches ?? 9;
  const iterations = options.iterations ?? 50_000;
  const steps = layerSteps();
  for (const step of steps) await checkLayerStep(step);
  for (const step of steps) await batch(step.app, Math.min(iterations, 20_000)); // warm-up: JIT
  const times = steps.map(() => [] as number[]);
  for (let b = 0; b < batches; b++) {
    // Rotated each batch, so no step always runs first after a GC-heavy one.
    for (let k = 0; k < steps.length; k++) {
      const index = (k + b) % steps.length;
      times[index]!.push(await batch(steps[index]!.app, iterations));
    }
  }
  const totals = times.map((t) => median(t));
  return {
    method: "in-process (the event-interface app called directly with a fake scope and send, no sockets)",
    batches,
    iterationsPerBatch: iterations,
    steps: steps.map((step, i) => ({ label: step.label, totalMicros: totals[i]!, addedMicros: i === 0 ? totals[0]! : totals[i]! - totals[i - 1]! })),
  };
}

/** The report as a printable table. */
export function formatLayerReport(report: LayerReport): string {
  const lines = [
    `per-layer cost of GET /items/{id}?q=hello, ${report.method};`,
    `median of ${report.batches} batches × ${report.iterationsPerBatch} requests`,
    `${"step".padEnd(16)}${"µs/request".padStart(12)}${"added µs".padStart(12)}`,
  ];
  for (const step of report.steps) {
    const added = step.label === "bare app" ? "" : `${step.addedMicros >= 0 ? "+" : ""}${step.addedMicros.toFixed(2)}`;
    lines.push(`${step.label.padEnd(16)}${step.totalMicros.toFixed(2).padStart(12)}${added.padStart(12)}`);
  }
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  console.log(formatLayerReport(await measureLayers(quick ? { batches: 5, iterations: 10_000 } : {})));
}
