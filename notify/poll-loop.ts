/**
 * One background job run on a timer and on demand, one run at a time: a kick during a run asks for one
 * more run after it (so work enqueued meanwhile is not left for the next tick); stop waits for the run in
 * progress. The notification relay, the fan-out and the push dispatcher each run on one.
 */
export class PollLoop<T> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<T | undefined> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly work: () => Promise<T>, private readonly pollMs: number, private readonly onError: (err: unknown) => void) {}

  start(runNow = false): void {
    this.timer = setInterval(() => void this.kick(), this.pollMs);
    this.timer.unref();
    if (runNow) void this.kick();
  }

  /** True once stop was called: long runs check it between pieces of work. */
  get stopping(): boolean {
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Runs now (or once more after the current run); resolves with the run's result (undefined if it failed). */
  kick(): Promise<T | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.work().catch((err: unknown) => {
      this.onError(err);
      return undefined;
    }).finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.kick();
      }
    });
    return this.running;
  }
}
