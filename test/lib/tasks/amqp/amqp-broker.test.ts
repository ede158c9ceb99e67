/**
 * AmqpBroker on a real RabbitMQ (127.0.0.1:5672; skipped when absent), in real time: what the
 * conformance suite's fake clock cannot reach — ETAs held by RabbitMQ's delay queues, leases that
 * end with the connection, a lost connection the broker recovers from, messages that are not tasks.
 */
import { randomBytes } from "node:crypto";
import amqp, { type ChannelModel } from "amqplib";
import t, { type Test } from "tap";
import { AmqpBroker } from "../../../../lib/tasks/amqp/amqp-broker.js";
import { toAmqp } from "../../../../lib/tasks/amqp/amqp-wire.js";
import type { Delivery } from "../../../../lib/tasks/broker.js";
import { newTaskId, type TaskMessage } from "../../../../lib/tasks/message.js";
import { portOpen } from "../../../interop/celery-harness.js";

const URL = "amqp://guest:guest@127.0.0.1:5672";

function message(overrides: Partial<TaskMessage> = {}): TaskMessage {
  const id = overrides.id ?? newTaskId();
  return { id, task: "test.noop", args: [], kwargs: {}, queue: "work", priority: 0, retries: 0, rootId: id, publishedAt: Date.now(), ...overrides };
}

/** A broker on queues of its own; two from one `prefix` share them. */
function open(t: Test, prefix = `laminar-amqp-${randomBytes(5).toString("hex")}.`): { broker: AmqpBroker; prefix: string } {
  const broker = new AmqpBroker({ url: URL, queuePrefix: prefix, idleQueueExpiresMs: 60_000 });
  t.teardown(() => broker.close());
  return { broker, prefix };
}

/** Reserves until something comes or `ms` pass. */
async function reserveWithin(broker: AmqpBroker, ms: number, queues = ["work"]): Promise<Delivery[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const got = await broker.reserve({ queues, max: 10, visibilityTimeoutMs: 30_000, consumer: "t", waitMs: Math.min(1_000, deadline - Date.now()) });
    if (got.length > 0) return got;
  }
  return [];
}

if (!(await portOpen(5672))) {
  t.test("AmqpBroker on RabbitMQ", { skip: "RabbitMQ is not running on 127.0.0.1:5672" }, async () => {});
} else {
  t.test("an ETA is held by RabbitMQ and delivered when due, never before", async (t) => {
    const { broker } = open(t);
    const eta = Date.now() + 1_500;
    await broker.publish(message({ id: "later", eta }));
    t.same(await broker.reserve({ queues: ["work"], max: 10, visibilityTimeoutMs: 1_000, consumer: "t" }), [], "not in the queue yet");
    const stats = (await broker.stats()).find((s) => s.queue === "work");
    t.same([stats?.ready, stats?.delayed], [0, 1], "held in a delay queue");
    const [delivery] = await reserveWithin(broker, 20_000);
    t.equal(delivery?.message.id, "later");
    t.ok(Date.now() >= eta, "not before its ETA");
    t.equal(delivery?.message.eta, eta, "the ETA header travels with it");
    t.equal(await broker.ack(delivery!), true);
  });

  t.test("release with a delay and a replacement: the replacement comes back after the delay", async (t) => {
    const { broker } = open(t);
    await broker.publish(message({ id: "r", args: [1] }));
    const [first] = await reserveWithin(broker, 5_000);
    const replacement = { ...first!.message, retries: 1, args: [2] };
    const releasedAt = Date.now();
    t.equal(await broker.release(first!, { message: replacement, delayMs: 800 }), true);
    t.equal(await broker.ack(first!), false, "the old lease is spent");
    const [again, ...rest] = await reserveWithin(broker, 20_000);
    t.same(rest, []);
    t.same([again?.message.id, again?.message.retries, again?.message.args], ["r", 1, [2]]);
    t.equal(again?.deliveries, 1, "a new message");
    t.ok(Date.now() >= releasedAt + 800, "not before the delay");
  });

  t.test("an unacked delivery comes back when its connection closes (a worker that died)", async (t) => {
    const a = open(t);
    const b = open(t, a.prefix);
    await a.broker.publish(message({ id: "orphan" }));
    const [held] = await reserveWithin(a.broker, 5_000);
    t.equal(held?.deliveries, 1);
    t.same(await b.broker.reserve({ queues: ["work"], max: 10, visibilityTimeoutMs: 1, consumer: "b" }), [], "leased: invisible to another connection");
    await a.broker.close();
    const [again] = await reserveWithin(b.broker, 10_000);
    t.equal(again?.message.id, "orphan");
    t.equal(again?.deliveries, 2, "counted as a redelivery");
    t.equal(await a.broker.ack(held!), false, "the closed broker's lease is void");
    t.equal(await b.broker.ack(again!), true);
  });

  t.test("a lost connection: leases are void, the broker reconnects and keeps consuming", async (t) => {
    const { broker } = open(t);
    await broker.publish(message({ id: "before" }));
    const [held] = await reserveWithin(broker, 5_000);
    t.ok(held);
    // Cut the socket under amqplib, as a network failure or a RabbitMQ restart would.
    const session = (broker as unknown as { session?: { connection: ChannelModel & { connection: { stream: { destroy(error: Error): void } } } } }).session;
    session!.connection.connection.stream.destroy(new Error("connection cut by the test"));
    const deadline = Date.now() + 10_000;
    let again: Delivery[] = [];
    while (again.length === 0 && Date.now() < deadline) {
      try {
        again = await broker.reserve({ queues: ["work"], max: 10, visibilityTimeoutMs: 1, consumer: "t", waitMs: 500 });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    t.equal(again[0]?.message.id, "before", "the unacked message came back on the new connection");
    t.equal(await broker.ack(held!), false, "the old lease is void");
    t.equal(await broker.ack(again[0]!), true);
    await broker.publish(message({ id: "after" }));
    t.same((await reserveWithin(broker, 5_000)).map((d) => d.message.id), ["after"], "publishing and consuming work again");
  });

  t.test("an ETA message published straight to the queue (as Python does) is moved to a delay queue", async (t) => {
    const { broker, prefix } = open(t);
    await broker.publish(message({ id: "declare" }));
    for (const d of await reserveWithin(broker, 5_000)) await broker.ack(d);
    const connection = await amqp.connect(URL);
    t.teardown(() => connection.close());
    const channel = await connection.createConfirmChannel();
    const eta = Date.now() + 1_500;
    const { content, options } = toAmqp(message({ id: "python-eta", eta, queue: "work" }), "", `${prefix}work`);
    channel.sendToQueue(`${prefix}work`, content, options);
    await channel.waitForConfirms();
    t.same(await broker.reserve({ queues: ["work"], max: 10, visibilityTimeoutMs: 1_000, consumer: "t" }), [], "not handed out early");
    const [delivery] = await reserveWithin(broker, 20_000);
    t.equal(delivery?.message.id, "python-eta");
    t.ok(Date.now() >= eta, "not before its ETA");
  });

  t.test("a message that is not a protocol 2 task is rejected and recorded, and does not block the queue", async (t) => {
    const { broker, prefix } = open(t);
    await broker.publish(message({ id: "declare" }));
    for (const d of await reserveWithin(broker, 5_000)) await broker.ack(d);
    const connection = await amqp.connect(URL);
    t.teardown(() => connection.close());
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(`${prefix}work`, Buffer.from("not json"), { correlationId: "junk" });
    await channel.waitForConfirms();
    await broker.publish(message({ id: "good" }));
    t.same((await reserveWithin(broker, 5_000)).map((d) => d.message.id), ["good"]);
    const [letter] = await broker.deadLetters(10);
    t.match(letter?.reason, /not a Celery protocol 2 task message/);
    t.equal(letter?.message.id, "junk");
  });
}

if (await portOpen(5672)) {
  t.test("a queue Python declared without x-max-priority: laminar's maxPriority declare is refused, the queue is used as it is", async (t) => {
    const prefix = `laminar-amqp-${randomBytes(5).toString("hex")}.`;
    const connection = await amqp.connect(URL);
    const channel = await connection.createChannel();
    await channel.assertQueue(`${prefix}work`, { durable: true, arguments: { "x-expires": 60_000 } });
    t.teardown(() => connection.close());
    const broker = new AmqpBroker({ url: URL, queuePrefix: prefix, maxPriority: 10 });
    t.teardown(() => broker.close());
    await broker.publish(message({ id: "low", priority: 1 }));
    await broker.publish(message({ id: "high", priority: 9 }));
    const got = await broker.reserve({ queues: ["work"], max: 10, visibilityTimeoutMs: 1_000, consumer: "t" });
    t.same(got.map((d) => d.message.id), ["high", "low"], "still sorted by priority among what one reserve fetched");
    const check = await channel.checkQueue(`${prefix}work`);
    t.equal(check.messageCount, 0, "the existing queue carried them");
    await channel.deleteQueue(`${prefix}work`);
  });
}
