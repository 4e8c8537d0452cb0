import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../workflows/messages';
import type { UpdateProgress } from '../workflows/promiseUpdate';
import type { StartedWorkflow } from './workflow-starts';
import { mapInOrder } from './map-in-order';

export interface WorkflowOutcome {
  label: string;
  workflowId: string;
  ok: boolean;
  message: string;
  result?: unknown;
}

const RESULTS_IN_FLIGHT = 100;

/**
 * Waits for started workflows; a failed one is reported, never thrown. Progress of
 * updates is polled until each ends; no poll is started after that, and the connection's
 * close() cancels one still in flight.
 */
export async function waitForWorkflows(
  started: StartedWorkflow[],
  onProgress?: (label: string, progress: UpdateProgress) => void,
): Promise<WorkflowOutcome[]> {
  // A bounded number of result polls at once: an apply of 10,000 requests must not hold
  // 10,000 long polls open on the server. The slowest workflow bounds the wait either way.
  // Updates first, so their progress is shown from the start.
  const order = started
    .map((s, i) => ({ s, i }))
    .sort((a, b) => Number(b.s.kind === 'promiseUpdate') - Number(a.s.kind === 'promiseUpdate'));
  const outcomes = await mapInOrder(order, RESULTS_IN_FLIGHT, ({ s }) => waitForOne(s, onProgress));
  const inInputOrder: WorkflowOutcome[] = new Array<WorkflowOutcome>(started.length);
  order.forEach(({ i }, k) => (inInputOrder[i] = outcomes[k]!));
  return inInputOrder;
}

async function waitForOne(
  s: StartedWorkflow,
  onProgress?: (label: string, progress: UpdateProgress) => void,
): Promise<WorkflowOutcome> {
  const polling =
    onProgress && s.kind === 'promiseUpdate'
      ? pollProgress(s.handle as WorkflowHandle, (p) => onProgress(s.label, p))
      : undefined;
  try {
    const result = await s.handle.result();
    polling?.stop();
    const progress = result as UpdateProgress | undefined;
    const failedResources = progress?.failed ?? 0;
    if (onProgress && s.kind === 'promiseUpdate') onProgress(s.label, result as UpdateProgress);
    // A rollout that halted (or rolled back) did not bring the fleet about, failures or not.
    const stopped =
      progress?.phase === 'halted' || progress?.phase === 'rolled-back'
        ? `rollout ${progress.phase}: ${progress.rollout?.haltReason ?? ''}`
        : undefined;
    return {
      label: s.label,
      workflowId: s.handle.workflowId,
      ok: failedResources === 0 && !stopped,
      message: stopped ?? (failedResources ? `${failedResources} resource(s) failed` : 'completed'),
      result,
    };
  } catch (err) {
    return {
      label: s.label,
      workflowId: s.handle.workflowId,
      ok: false,
      message: deepestMessage(err),
    };
  } finally {
    polling?.stop();
  }
}

const PROGRESS_POLL_MS = 500;

/** Queries progress one at a time (never overlapping) until stopped. */
function pollProgress(
  handle: WorkflowHandle,
  onProgress: (p: UpdateProgress) => void,
): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    timer = undefined;
    handle
      .query(progressQuery)
      .then((p) => {
        if (!stopped) onProgress(p);
      })
      // A query can fail while the run continues as new or ends; the next one tells.
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, PROGRESS_POLL_MS);
      });
  };
  timer = setTimeout(tick, PROGRESS_POLL_MS);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export function deepestMessage(err: unknown): string {
  let current = err as { message?: string; cause?: unknown } | undefined;
  let message = current?.message ?? String(err);
  while (current?.cause) {
    current = current.cause as { message?: string; cause?: unknown };
    if (current.message) message = current.message;
  }
  return message;
}
