/**
 * What the Redis tests share: probes for Redis and Python Celery (tests skip when either is absent),
 * a key prefix per test that is deleted afterwards (the Redis on 127.0.0.1:6379 is shared with other
 * tests running at the same time), and a runner for small Python Celery scripts.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Test } from "tap";

/** The shared Redis the tests use. */
export const REDIS_URL = process.env.LAMINAR_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";

/** True when a Redis answers at `url`. */
export async function redisUp(url = REDIS_URL): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** True when `/usr/bin/python3` imports celery and redis. */
export function pythonCeleryUp(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import celery, redis"], { stdio: "ignore", timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** A fresh key prefix; every key under it (and `extra` keys) is deleted when `t` ends. */
export function testPrefix(t: Test, extra: () => string[] = () => []): string {
  const prefix = `laminar-test-${randomUUID().slice(0, 8)}:`;
  t.teardown(async () => {
    const redis = new Redis(REDIS_URL);
    redis.on("error", () => undefined);
    const keys = [...(await redis.keys(`${prefix}*`)), ...extra()];
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return prefix;
}

/** Runs a Python script (stdin gets `input` as JSON) and parses its last stdout line as JSON. */
export function runPython(script: string, input: unknown, timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = execFile("/usr/bin/python3", ["-c", script], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`python failed: ${error.message}\n${stderr}`));
      const lines = stdout.trim().split("\n");
      try {
        resolve(JSON.parse(lines[lines.length - 1]!));
      } catch {
        reject(new Error(`python printed no JSON: ${stdout}\n${stderr}`));
      }
    });
    child.stdin?.end(JSON.stringify(input));
  });
}
