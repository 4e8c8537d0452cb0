/** Runs `fn` over `items` with at most `limit` in flight (deterministic: plain promises). */
export async function forEachBounded<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for (const item of items) {
    while (running.size >= limit) await Promise.race(running);
    const p: Promise<void> = fn(item).finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
}
