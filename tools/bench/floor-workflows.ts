/**
 * The Temporal floor of a fleet upgrade: N child workflows with one no-op activity each,
 * `concurrency` at a time, the parent continuing as new every `perRun` children, the
 * shape of promiseUpdate's fan-out with none of its work. Bundled by the bench's worker.
 */
import { continueAsNew, executeChild, proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({
  startToCloseTimeout: '1 minute',
});

export interface FloorInput {
  total: number;
  concurrency: number;
  perRun: number;
  started?: number;
  runId: string;
}

export async function floorFleet(input: FloorInput): Promise<void> {
  let started = input.started ?? 0;
  const running = new Set<Promise<void>>();
  let thisRun = 0;
  while (started < input.total) {
    if (thisRun >= input.perRun) {
      await Promise.all(running);
      await continueAsNew<typeof floorFleet>({ ...input, started });
    }
    while (running.size >= input.concurrency) await Promise.race(running);
    const i = started++;
    thisRun++;
    const p: Promise<void> = executeChild(floorChild, {
      workflowId: `${input.runId}-child-${i}`,
    }).finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
}

export async function floorChild(): Promise<void> {
  await noop();
}
