/**
 * The two broker setups the interop tests run on, each paired with Celery's Redis result backend
 * (Celery's usual pairings): Redis broker + Redis backend, RabbitMQ broker + Redis backend. Gives the
 * laminar side (a broker and backend over the same services) and the URLs the Python side uses.
 *
 * @module
 */
import amqp from "amqplib";
import type { Test } from "tap";
import { AmqpBroker } from "../../lib/tasks/amqp/amqp-broker.js";
import type { Broker } from "../../lib/tasks/broker.js";
import { RedisResultBackend } from "../../lib/tasks/redis/redis-backend.js";
import { RedisBroker } from "../../lib/tasks/redis/redis-broker.js";
import type { ResultBackend } from "../../lib/tasks/result-backend.js";
import { AMQP_URL, AMQP_URL_NODE, interopSkip, REDIS_URL, type PythonEnv } from "./celery-harness.js";

/** A broker kind of the matrix. */
export type BrokerKind = "redis" | "amqp";

/** Both kinds, in the order the tests run them. */
export const BROKER_KINDS: readonly BrokerKind[] = ["redis", "amqp"];

/** Why a test on `kind` must skip (Python Celery, Redis, RabbitMQ), or false. */
export function skipFor(kind: BrokerKind): Promise<string | false> {
  return interopSkip({ python: true, redis: true, rabbitmq: kind === "amqp" });
}

/** The laminar side of one test. */
export interface LaminarSide {
  broker: Broker;
  backend: ResultBackend;
  python: PythonEnv;
}

/**
 * A broker and backend for `kind`, closed at teardown. The Redis broker puts ETA messages on the
 * queue at once (`etaOnQueue`, Celery's way), so a Python-only consumer gets countdown tasks. On RabbitMQ the queues a test used are
 * deleted at teardown too (Celery declares them durable and without expiry, so laminar must declare
 * them the same way and cannot rely on `x-expires`).
 */
export function laminarSide(t: Test, kind: BrokerKind, queues: readonly string[]): LaminarSide {
  const backend = new RedisResultBackend({ url: REDIS_URL });
  const broker: Broker = kind === "redis" ? new RedisBroker({ url: REDIS_URL, etaOnQueue: true }) : new AmqpBroker({ url: AMQP_URL_NODE });
  t.teardown(async () => {
    await broker.close();
    await backend.close();
    if (kind === "amqp") await deleteAmqp(queues);
  });
  return { broker, backend, python: { broker: kind === "redis" ? REDIS_URL : AMQP_URL, backend: REDIS_URL } };
}

/** Deletes RabbitMQ queues and their same-named exchanges (and laminar's delay queues are left to expire). */
async function deleteAmqp(queues: readonly string[]): Promise<void> {
  const connection = await amqp.connect(AMQP_URL_NODE).catch(() => undefined);
  if (!connection) return;
  try {
    for (const name of queues) {
      for (const drop of [(c: amqp.Channel) => c.deleteQueue(name), (c: amqp.Channel) => c.deleteExchange(name)]) {
        const channel = await connection.createChannel();
        channel.on("error", () => undefined);
        await drop(channel).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}
