import { deepestMessage } from './outcomes';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { promiseNeedsUpdate, promiseUpdateKey } from '../model/triggers';
import type { KratixPromise } from '../model/types';
import { TRIGGER_MEMO, workflowIds } from '../workflows/ids';
import type { UpdateProgress } from '../workflows/promiseUpdate';

/**
 * How the last Promise update went, read from Temporal (the workflow `promise-update/NAME`),
 * so `apply` of an unchanged Promise and `retry promise` can start a new update exactly
 * when the last one did not bring the stored Promise about.
 */
export type LastUpdate =
  | { state: 'running'; workflowId: string }
  | { state: 'succeeded'; workflowId: string }
  /** Failed, aborted, terminated, some resources failed, or never run for this spec. */
  | { state: 'unsucceeded'; workflowId: string; reason: string };

export async function lastPromiseUpdate(
  client: Client,
  promise: KratixPromise,
): Promise<LastUpdate> {
  const workflowId = workflowIds.promiseUpdate(promise.metadata.name);
  let described;
  try {
    described = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    // No run on record (never started, or past the namespace's retention): the Promise's
    // status says whether an update ever snapshotted this spec.
    return promiseNeedsUpdate(promise)
      ? { state: 'unsucceeded', workflowId, reason: 'no update of this spec on record' }
      : { state: 'succeeded', workflowId };
  }
  const status = described.status.name;
  if (status === 'RUNNING') return { state: 'running', workflowId };
  const unsucceeded = (reason: string): LastUpdate => ({
    state: 'unsucceeded',
    workflowId,
    reason,
  });

  // A run for an older spec (the start after storing this one never happened) is no update
  // of this one. Runs continued as new may carry no key; their status decides.
  const key = described.memo?.[TRIGGER_MEMO];
  if (typeof key === 'string' && key !== promiseUpdateKey(promise)) {
    return unsucceeded(`the last update (${key}) was for an older spec`);
  }

  const handle = client.workflow.getHandle(workflowId, described.runId);
  if (status === 'COMPLETED') {
    const result = (await handle.result()) as UpdateProgress | undefined;
    if (result?.phase === 'aborted') return unsucceeded(`the last update was aborted`);
    if (result?.phase === 'halted' || result?.phase === 'rolled-back') {
      return unsucceeded(
        `the last update's rollout ${result.phase === 'halted' ? 'halted' : 'was rolled back'}: ${result.rollout?.haltReason ?? ''}`,
      );
    }
    if ((result?.failed ?? 0) > 0) {
      return unsucceeded(
        `${result?.failed} of ${result?.total} resource(s) failed in the last update`,
      );
    }
    return { state: 'succeeded', workflowId };
  }
  if (status === 'FAILED') {
    const reason = await handle.result().then(
      () => 'failed',
      (err: unknown) => deepestMessage(err),
    );
    return unsucceeded(`the last update failed: ${reason}`);
  }
  // TERMINATED, CANCELLED, TIMED_OUT (and anything newer): it did not finish.
  return unsucceeded(`the last update was ${status.toLowerCase().replace(/_/g, ' ')}`);
}
