/**
 * AmqpBroker: the broker conformance suite against the RabbitMQ on 127.0.0.1:5672 (skipped when it
 * is not running). Each case gets queues of its own (a random `queuePrefix`) that RabbitMQ deletes
 * once unused (`idleQueueExpiresMs`), so runs sharing the server do not meet.
 *
 * The suite moves a fake clock to lapse leases and reach ETAs; RabbitMQ has neither a visibility
 * timeout nor a clock of ours, so those cases are skipped here, each with its reason, and their real
 * counterparts (real-time ETA, redelivery on a closed connection) are in test/lib/tasks/amqp.
 */
import { randomBytes } from "node:crypto";
import t, { type Test } from "tap";
import { AmqpBroker } from "../../../lib/tasks/amqp/amqp-broker.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import { portOpen } from "../../interop/celery-harness.js";
import { brokerConformance } from "./broker-cases.js";

const NO_VISIBILITY_TIMEOUT = "RabbitMQ has no visibility timeout: a lease ends when the channel closes, not when a (fake) clock passes it";
const REAL_TTL = "ETAs are held by RabbitMQ's per-message TTL, in real time: a fake clock cannot reach them";

/** Cases that cannot apply to RabbitMQ, by title (after `AmqpBroker: `), with why. */
const skipped: Record<string, string> = {
  "an ETA is not delivered before it is due": REAL_TTL,
  "among due messages of one priority the earliest due goes first": REAL_TTL,
  "a lapsed lease makes the message due again, deliveries counted": NO_VISIBILITY_TIMEOUT,
  "a stale lease token cannot ack, extend, release or dead-letter": NO_VISIBILITY_TIMEOUT,
  "extend keeps the message hidden": NO_VISIBILITY_TIMEOUT,
  "release puts the message back, at once or after a delay": REAL_TTL,
  "release with a replacement message (a retry)": REAL_TTL,
  "a revoked pending message is never delivered, nor a later publish of its id":
    "a message revoked while in a delay queue stays there (counted as delayed) until its TTL ends; it is dropped when it reaches the queue",
  "stats per queue": NO_VISIBILITY_TIMEOUT,
};

/** `t` whose `test` skips the cases listed above. */
function skipping(parent: Test): Test {
  return new Proxy(parent, {
    get(target, property) {
      if (property === "test") {
        return (name: string, fn: (t: Test) => Promise<void>) => {
          const reason = skipped[name.replace(/^AmqpBroker: /, "")];
          return reason ? target.test(name, { skip: reason }, fn) : target.test(name, fn);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const up = await portOpen(5672);
if (!up) {
  t.test("AmqpBroker conformance", { skip: "RabbitMQ is not running on 127.0.0.1:5672" }, async () => {});
} else {
  brokerConformance(skipping(t), "AmqpBroker", (clock) =>
    new AmqpBroker({
      url: "amqp://guest:guest@127.0.0.1:5672",
      queuePrefix: `laminar-conf-${randomBytes(5).toString("hex")}.`,
      idleQueueExpiresMs: 60_000,
      maxPriority: 10,
      now: clock.now,
      control: new MemoryBroker({ now: clock.now, maxRevocations: clock.maxRevocations }),
    }),
  );
}
