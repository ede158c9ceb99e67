/**
 * kill -9 of a laminar worker mid-task on RabbitMQ loses nothing (issue 9): with `acksLate`, the
 * running task's delivery is unacked, RabbitMQ requeues it when the dead process's connection drops,
 * and another consumer gets it, marked as a redelivery. Skipped when RabbitMQ is absent.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { AmqpBroker } from "../../../../lib/tasks/amqp/amqp-broker.js";
import type { Delivery } from "../../../../lib/tasks/broker.js";
import { newTaskId } from "../../../../lib/tasks/message.js";
import { portOpen } from "../../../interop/celery-harness.js";

const URL = "amqp://guest:guest@127.0.0.1:5672";

t.test("a laminar worker SIGKILLed mid-task: the task is delivered again", { skip: (await portOpen(5672)) ? false : "RabbitMQ is not running on 127.0.0.1:5672" }, async (t) => {
  const prefix = `laminar-kill-${randomBytes(5).toString("hex")}.`;
  const child = spawn(process.execPath, [...process.execArgv, join(dirname(fileURLToPath(import.meta.url)), "kill-child.ts")], {
    env: { ...process.env, LAMINAR_AMQP_URL: URL, LAMINAR_AMQP_PREFIX: prefix },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => void child.kill("SIGKILL"));
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const waitFor = async (text: string, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!output.includes(text) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    return output.includes(text);
  };
  t.ok(await waitFor("ready", 30_000), "the worker process started");

  const broker = new AmqpBroker({ url: URL, queuePrefix: prefix, idleQueueExpiresMs: 60_000 });
  t.teardown(() => broker.close());
  const id = newTaskId();
  await broker.publish({ id, task: "hang", args: [id], kwargs: {}, queue: "work", priority: 0, retries: 0, rootId: id, publishedAt: Date.now() });
  t.ok(await waitFor(`started ${id}`, 30_000), `the task is running in the child:\n${output}`);

  child.kill("SIGKILL");
  await exited;
  let got: Delivery[] = [];
  const deadline = Date.now() + 20_000;
  while (got.length === 0 && Date.now() < deadline) {
    got = await broker.reserve({ queues: ["work"], max: 1, visibilityTimeoutMs: 30_000, consumer: "test", waitMs: 1_000 });
  }
  t.equal(got[0]?.message.id, id, "the task came back");
  t.equal(got[0]?.deliveries, 2, "as a redelivery");
  t.equal(await broker.ack(got[0]!), true);
});
