/**
 * A keyed work queue as Kubernetes controllers use one: a key waits once however many
 * events name it, one key is never worked on twice at the same time (a key added while it
 * runs runs again afterwards), keys can be re-added after a delay, and a bounded number of
 * keys run at once.
 */
export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly order: string[] = [];
  private readonly active = new Set<string>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly concurrency: number,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.again.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.order.push(key);
    this.pump();
  }

  /** Adds `key` after `ms` (a later, sooner request wins nothing: the first timer stays). */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  get size(): number {
    return this.waiting.size + this.active.size;
  }

  /** Resolves when nothing waits or runs (tests, shutdown). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
    this.order.length = 0;
  }

  private pump(): void {
    while (!this.stopped && this.running < this.concurrency) {
      const key = this.order.shift();
      if (key === undefined) break;
      if (!this.waiting.delete(key)) continue;
      this.running++;
      this.active.add(key);
      void this.handler(key)
        .catch((err: unknown) => this.onError(key, err))
        .finally(() => {
          this.running--;
          this.active.delete(key);
          if (this.again.delete(key)) this.add(key);
          if (this.size === 0) this.idleWaiters.splice(0).forEach((r) => r());
          this.pump();
        });
    }
  }
}
