/**
 * connectBroker / connectBackend: the URL schemes, the shared memory:// store, and the errors for
 * URLs nobody can open.
 */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import t from "tap";
import type { Broker } from "../../../lib/tasks/broker.js";
import { connectBackend, connectBroker, redact, registerBrokerScheme, sqlitePath } from "../../../lib/tasks/connect.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import { SqliteResultBackend } from "../../../lib/tasks/sqlite/sqlite-backend.js";
import { SqliteBroker } from "../../../lib/tasks/sqlite/sqlite-broker.js";
import { makeMessage } from "../../conformance/tasks/broker-cases.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-connect-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const take = (broker: Broker) => broker.reserve({ queues: ["celery"], max: 10, visibilityTimeoutMs: 1_000, consumer: "c" });

t.test("memory:// connections with one URL share one store until the last closes", async (t) => {
  const publisher = connectBroker("memory://");
  const worker = connectBroker("memory://");
  const elsewhere = connectBroker("memory://other");
  t.ok(publisher instanceof MemoryBroker);
  await publisher.publish(makeMessage({ id: "shared" }));
  t.same(await take(elsewhere), [], "another name is another store");
  await publisher.close();
  await publisher.close();
  t.same((await take(worker)).map((d) => d.message.id), ["shared"], "the publisher closing (twice) did not close the worker's");
  await worker.close();
  const fresh = connectBroker("memory://");
  t.same((await fresh.stats()), [], "all connections closed: the next one starts empty");
  await Promise.all([fresh.close(), elsewhere.close()]);

  const b1 = connectBackend("memory://");
  const b2 = connectBackend("memory://");
  await b1.store({ taskId: "t", state: "SUCCESS", result: 1 });
  t.equal((await b2.get("t"))?.result, 1);
  await Promise.all([b1.close(), b2.close()]);
});

t.test("sqlite:///abs/path and sqlite://relative/path", async (t) => {
  const abs = join(dir, "abs.db");
  const broker = connectBroker(`sqlite://${abs}`);
  const backend = connectBackend(`sqlite://${abs}?ignored=1`);
  t.teardown(() => Promise.all([broker.close(), backend.close()]));
  t.ok(broker instanceof SqliteBroker && backend instanceof SqliteResultBackend);
  t.equal((broker as SqliteBroker).file, abs);
  t.equal((backend as SqliteResultBackend).file, abs, "the query string is not part of the path");
  const rel = relative(process.cwd(), join(dir, "rel.db"));
  t.notOk(rel.startsWith("/"), "a relative path");
  const relBroker = connectBroker(`sqlite://${rel}`);
  t.teardown(() => relBroker.close());
  t.ok(existsSync(join(dir, "rel.db")), "resolved against the working directory");
  t.equal(sqlitePath("sqlite:///tmp/my%20dir/x.db"), "/tmp/my dir/x.db", "percent-decoded");
  t.equal(sqlitePath("sqlite:///tmp/100%.db"), "/tmp/100%.db", "a stray % is kept");
});

t.test("URLs nobody can open give a clear error", async (t) => {
  for (const url of ["nats://:hunter2@localhost:4222/0", "kafka://guest:guest@localhost//", "postgres://x"]) {
    const error = (() => {
      try {
        connectBroker(url);
      } catch (e) {
        return e as Error & { code?: string };
      }
    })();
    t.equal(error?.code, "LMR_ERR_BROKER_UNAVAILABLE", url);
    t.match(error?.message, /known schemes: .*memory:\/\/.*sqlite:\/\//, "lists the known schemes");
    t.notMatch(error?.message, /hunter2|guest:guest/, "without the password");
  }
  t.throws(() => connectBackend("tasks.db"), { code: "LMR_ERR_BROKER_UNAVAILABLE", message: /scheme:\/\// }, "not a URL");
  t.throws(() => connectBroker(undefined as unknown as string), { code: "LMR_ERR_BROKER_UNAVAILABLE" });
  t.throws(() => connectBroker("sqlite://"), { message: /needs a file/ });
  t.equal(redact("redis://user:pw@host:1/2"), "redis://user:***@host:1/2");
  t.equal(redact("sqlite:///a:b@c.db"), "sqlite:///a:b@c.db", "a path is not a password");
});

t.test("a scheme can be added (how redis:// and amqp:// plug in)", async (t) => {
  const seen: string[] = [];
  registerBrokerScheme("fake", (url) => {
    seen.push(url);
    return new MemoryBroker();
  });
  const broker = connectBroker("FAKE://host/vhost");
  t.ok(broker instanceof MemoryBroker);
  t.same(seen, ["FAKE://host/vhost"], "the factory gets the whole URL; schemes are case-insensitive");
  await broker.close();
});

t.test("amqp:// opens the RabbitMQ broker (lazily: nothing connects until it is used); it has no result backend", async (t) => {
  const broker = connectBroker("amqp://guest:guest@127.0.0.1:5672//");
  t.equal(broker.constructor.name, "AmqpBroker");
  await broker.close();
  t.throws(() => connectBackend("amqp://guest:guest@127.0.0.1:5672//"), { code: "LMR_ERR_BROKER_UNAVAILABLE" }, "RabbitMQ keeps no results");
});
