"""Celery's side of `npm run bench:tasks` (Debian's python3-celery, run as /usr/bin/python3).

As a module, the worker's app: `python3 -m celery -A celery_bench worker -P solo -Q $CELERY_QUEUE`
runs `bench.noop` from the Redis broker and backend at REDIS_URL. Run as a script, the publisher:
sends COUNT tasks one `delay()` at a time, then `get()`s each result in publish order, and prints
the same JSON line as laminar's publisher.ts. JSON serialization, as laminar speaks it.
"""
import json
import os
import time

from celery import Celery

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = os.environ.get("CELERY_QUEUE", "bench")

app = Celery("celery_bench", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.noop")
def noop(index):
    return index


def publish(count):
    started = time.perf_counter()
    results = [noop.delay(index) for index in range(count)]
    published = time.perf_counter()
    wrong = sum(1 for index, result in enumerate(results) if result.get(timeout=120) != index)
    finished = time.perf_counter()
    # Results live in celery-task-meta-<id> keys (a day by default); the bench leaves none behind.
    client = app.backend.client
    keys = [app.backend.get_key_for_task(result.id) for result in results]
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])
    print(json.dumps({"count": count, "wrong": wrong,
                      "publishMs": (published - started) * 1000, "totalMs": (finished - started) * 1000}))


if __name__ == "__main__":
    publish(int(os.environ.get("COUNT", "2000")))
