/**
 * The lifespan protocol, both sides: the app side that turns a user's lifespan generator into
 * lifespan events, and the runner a server (or the test client) uses to drive any app through
 * startup and shutdown (ASGI's lifespan protocol).
 *
 * @module
 */
import type { App, LifespanScope, Receive, ReceiveEvent, Send, SendEvent } from "../layers/adapter/events.js";

/**
 * A user's lifespan: setup code, one `yield` of the state every request will see in
 * `scope.state`, then teardown code, which runs on graceful shutdown.
 *
 * @example
 * async function* lifespan() {
 *   const db = new Database(file);
 *   yield { db };
 *   db.close();
 * }
 */
export type LifespanHandler = () => AsyncGenerator<Record<string, unknown> | void, void, unknown>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The app side: answers lifespan events by running `handler`. */
export function lifespanApp(handler: LifespanHandler | undefined): (scope: LifespanScope, receive: Receive, send: Send) => Promise<void> {
  return async (scope, receive, send) => {
    await receive(); // lifespan.startup
    let generator: AsyncGenerator<Record<string, unknown> | void, void, unknown> | undefined;
    try {
      if (handler !== undefined) {
        generator = handler();
        const first = await generator.next();
        if (first.done !== true && first.value) Object.assign(scope.state, first.value);
      }
    } catch (error) {
      await send({ type: "lifespan.startup.failed", message: message(error) });
      return;
    }
    await send({ type: "lifespan.startup.complete" });
    await receive(); // lifespan.shutdown
    try {
      // next(), not return(): return() would skip plain code after the yield, which is the teardown.
      const rest = await generator?.next();
      if (rest !== undefined && rest.done !== true) {
        await generator!.return(undefined);
        throw new Error("the lifespan generator yielded more than once");
      }
    } catch (error) {
      await send({ type: "lifespan.shutdown.failed", message: message(error) });
      return;
    }
    await send({ type: "lifespan.shutdown.complete" });
  };
}

/** Raised by {@link LifespanRunner.startup} when the app's startup failed. */
export class LifespanStartupError extends Error {
  override get name(): string {
    return "LifespanStartupError";
  }
}

/**
 * The server side: drives an app through startup and shutdown. An app that does not speak the
 * lifespan protocol (it returns or throws before answering startup) is tolerated, as uvicorn's
 * `lifespan="auto"` does: it simply has no lifespan.
 */
export class LifespanRunner {
  /** The state startup filled; servers copy it into each request's scope. */
  readonly state: Record<string, unknown> = {};
  private readonly inbox: ReceiveEvent[] = [];
  private wakeReceiver: (() => void) | undefined;
  private waitingFor: { types: string[]; resolve: (event: SendEvent | undefined) => void } | undefined;
  private finished: Promise<void> | undefined;
  private supported = true;

  constructor(private readonly app: App) {}

  /** Runs startup; resolves with the state, rejects with {@link LifespanStartupError} on failure. */
  async startup(): Promise<Record<string, unknown>> {
    const scope: LifespanScope = { type: "lifespan", state: this.state };
    const answer = this.expect(["lifespan.startup.complete", "lifespan.startup.failed"]);
    this.push({ type: "lifespan.startup" });
    this.finished = this.app(scope, () => this.receive(), (event) => this.send(event)).then(
      () => this.settleUnanswered(),
      () => this.settleUnanswered(),
    );
    const event = await answer;
    if (event === undefined) {
      this.supported = false;
      return this.state;
    }
    if (event.type === "lifespan.startup.failed") throw new LifespanStartupError(`Application startup failed: ${event.message}`);
    return this.state;
  }

  /** Runs shutdown; rejects when the app reports a failed shutdown. */
  async shutdown(): Promise<void> {
    if (!this.supported || this.finished === undefined) return;
    const answer = this.expect(["lifespan.shutdown.complete", "lifespan.shutdown.failed"]);
    this.push({ type: "lifespan.shutdown" });
    const event = await answer;
    await this.finished;
    if (event?.type === "lifespan.shutdown.failed") throw new Error(`Application shutdown failed: ${event.message}`);
  }

  private expect(types: string[]): Promise<SendEvent | undefined> {
    return new Promise((resolve) => (this.waitingFor = { types, resolve }));
  }

  private settleUnanswered(): void {
    const waiting = this.waitingFor;
    this.waitingFor = undefined;
    waiting?.resolve(undefined);
  }

  private push(event: ReceiveEvent): void {
    this.inbox.push(event);
    const wake = this.wakeReceiver;
    this.wakeReceiver = undefined;
    wake?.();
  }

  private async receive(): Promise<ReceiveEvent> {
    while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.wakeReceiver = resolve));
    return this.inbox.shift()!;
  }

  private async send(event: SendEvent): Promise<void> {
    const waiting = this.waitingFor;
    if (waiting !== undefined && waiting.types.includes(event.type)) {
      this.waitingFor = undefined;
      waiting.resolve(event);
    }
  }
}
