interface Queued<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Items queued while a group is being written go together in the next group: callers
 * arriving at once share one round trip (for Git: one fetch and one push) instead of
 * paying one each. `write` calls `take()` when it is ready to write (e.g. once it has its
 * turn), so everything queued until then joins the group; it returns one result per
 * taken item, an Error failing that item alone. A thrown error fails the whole group.
 */
export class GroupQueue<T, R> {
  private readonly queue: Queued<T, R>[] = [];
  private draining = false;

  constructor(
    private readonly maxGroup: number,
    private readonly write: (take: () => T[]) => Promise<(R | Error)[]>,
    /** Called when the queue runs empty: for work that should not delay a write. */
    private readonly onIdle?: () => Promise<void>,
  ) {}

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        let group: Queued<T, R>[] | undefined;
        const take = () => {
          group ??= this.queue.splice(0, this.maxGroup);
          return group.map((q) => q.item);
        };
        try {
          const results = await this.write(take);
          group?.forEach((q, i) => {
            const r = results[i];
            if (r instanceof Error) q.reject(r);
            else q.resolve(r as R);
          });
        } catch (err) {
          // Failed before taking anything (e.g. no clone): the waiting items fail with it.
          take();
          for (const q of group ?? []) q.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
    if (this.onIdle && this.queue.length === 0) await this.onIdle();
  }
}
