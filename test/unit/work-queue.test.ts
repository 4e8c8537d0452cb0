import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/bridge/queue';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("the bridge's work queue", () => {
  it('runs a key once however many times it is added while waiting', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(
      async (k) => {
        if (k === 'first') await blocked;
        seen.push(k);
      },
      1,
      () => undefined,
    );
    q.add('first'); // occupies the only slot, so the rest wait
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    release();
    await q.idle();
    expect(seen).toEqual(['first', 'a', 'b']);
  });

  it('never runs one key twice at once, and runs it again when it was added while running', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        await tick();
        running--;
      },
      4,
      () => undefined,
    );
    q.add('a');
    await new Promise((r) => setTimeout(r, 1));
    q.add('a');
    q.add('a');
    await q.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('reports a failing key and keeps working on the others', async () => {
    const failed: string[] = [];
    const done: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        if (k === 'bad') throw new Error('boom');
        done.push(k);
      },
      2,
      (k) => failed.push(k),
    );
    q.add('bad');
    q.add('good');
    await q.idle();
    expect(failed).toEqual(['bad']);
    expect(done).toEqual(['good']);
  });

  it('adds a key again after a delay', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(
      async (k) => void seen.push(k),
      1,
      () => undefined,
    );
    q.addAfter('later', 20);
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    await q.idle();
    expect(seen).toEqual(['later']);
  });
});
