/**
 * `laminar/tasks`: the task queue (Celery's model). A separate entry point from `laminar`, so a web
 * app that publishes no task does not load SQLite, the worker or the canvas.
 *
 * @example
 * import { TaskQueue, connectBroker, connectBackend } from "laminar/tasks";
 * const queue = new TaskQueue({ broker: connectBroker("sqlite://tasks.db"), backend: connectBackend("sqlite://tasks.db") });
 * export const add = queue.task("math.add", (x: number, y: number) => x + y);
 * const result = await add.delay(2, 3);
 * await result.get({ timeout: 10 }); // 5
 *
 * @module
 */
export { TaskQueue, type TaskQueueOptions, type SendTaskOptions } from "./task-queue.js";
export { Task, type TaskApplyOptions, type ArgsCheck } from "./task.js";
export { TaskSignature, type SignatureInput, type ResultOf } from "./signature.js";
export { chain, group, chord, Chain, Group, Chord, type AnySignature, type CompleteSignature, type ResultsOf, type LastResult } from "./canvas.js";
export { AsyncResult, type GetOptions } from "./async-result.js";
export { GroupResult, type AsyncResults } from "./group-result.js";
export { currentTask, currentTaskOrUndefined } from "./current-task.js";
export { connectBroker, connectBackend, registerBrokerScheme, registerBackendScheme, type ConnectOptions, type BrokerFactory, type BackendFactory } from "./connect.js";
export { DEFAULT_QUEUE, MIN_PRIORITY, MAX_PRIORITY, DEFAULT_PRIORITY, newTaskId, type TaskMessage, type Signature, type SignatureOptions, type GroupMembership } from "./message.js";
export { READY_STATES, isReady, type TaskState } from "./states.js";
export { serializeError, rebuildError, TaskFailedError, type SerializedError } from "./task-error.js";
export { DEFAULT_TASK_OPTIONS, type TaskOptions, type RetryOn } from "./task-options.js";
export { Retry, type TaskContext, type RegisteredTask, type TaskRegistry } from "./registry.js";
export type { Broker, Delivery, ReserveOptions, ReleaseOptions, DeadLetter, QueueStats, WorkerInfo, Revocation } from "./broker.js";
export type { ResultBackend, TaskMeta } from "./result-backend.js";
export { MemoryBroker, type MemoryBrokerOptions } from "./memory/memory-broker.js";
export { MemoryResultBackend, type MemoryResultBackendOptions } from "./memory/memory-backend.js";
export { SqliteBroker, type SqliteBrokerOptions } from "./sqlite/sqlite-broker.js";
export { SqliteResultBackend, type SqliteResultBackendOptions } from "./sqlite/sqlite-backend.js";
export { RedisBroker, type RedisBrokerOptions } from "./redis/redis-broker.js";
export { RedisResultBackend, type RedisResultBackendOptions } from "./redis/redis-backend.js";
export { AmqpBroker, type AmqpBrokerOptions, type ControlStore } from "./amqp/amqp-broker.js";
export { Beat, BEAT_LOCK, type BeatEntry, type BeatOptions, type BeatTask } from "./beat/beat.js";
export { Worker, type WorkerOptions, type RunningTask } from "./worker/worker.js";
export { AsyncPool } from "./worker/async-pool.js";
export { ProcessPool, type ProcessPoolOptions } from "./worker/process-pool.js";
export type { TaskPool, ExecutionControl } from "./worker/pool.js";
export {
  NotRegistered,
  TaskArgumentsError,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
  MaxRetriesExceededError,
  TaskRevokedError,
  ChordError,
  TaskTimeoutError,
  BrokerUnavailable,
  WorkerLostError,
} from "../errors.js";
