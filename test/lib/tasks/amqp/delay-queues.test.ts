/**
 * Delay queue buckets: eight per doubling, so delays sharing a queue differ by under 9% (a message
 * is at most that late behind a longer one at the head).
 */
import t from "tap";
import { delayBucket, delayQueueArguments, delayQueueName, isDelayQueueOf } from "../../../../lib/tasks/amqp/delay-queues.js";

t.test("delays in one bucket differ by less than 2^(1/8)", async (t) => {
  for (const delay of [1, 7, 1_000, 1_500, 60_000, 86_400_000]) {
    const bucket = delayBucket(delay);
    const low = 2 ** (bucket / 8);
    const high = 2 ** ((bucket + 1) / 8);
    t.ok(delay >= Math.floor(low) && delay < Math.ceil(high), `${delay} in [${low}, ${high})`);
  }
  t.not(delayBucket(1_000), delayBucket(1_100), "10% apart: different buckets");
  t.equal(delayBucket(0), 0);
  t.equal(delayBucket(-5), 0, "never negative");
});

t.test("names and arguments", async (t) => {
  const name = delayQueueName("celery", 1_000);
  t.equal(name, `laminar.delay.celery.${delayBucket(1_000)}`);
  t.ok(isDelayQueueOf(name, "celery"));
  t.notOk(isDelayQueueOf(name, "cel"));
  t.notOk(isDelayQueueOf("laminar.delay.celery.x", "celery"));
  t.same(delayQueueArguments("q"), { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q" }, "expired messages go to the queue through the default exchange");
  t.same(delayQueueArguments("q", 5_000)["x-expires"], 5_000);
});
