import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { PromiseflowConfig } from '../config';
import { promiseUpdateKey } from '../model/triggers';
import type { KratixPromise } from '../model/types';
import { promiseVersion } from '../model/validate';
import type { DestinationReconcileInput } from '../workflows/destinationReconcile';
import { TRIGGER_MEMO, workflowIds } from '../workflows/ids';
import { reconcileAgainSignal, supersedeSignal } from '../workflows/messages';
import type { WorkflowType } from '../workflows/ids';
import type { PromiseUpdateInput, PromiseUpdateOptions } from '../workflows/promiseUpdate';
import type { ResourceReconcileInput } from '../workflows/resourceReconcile';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export { workflowIds };

export type StartedWorkflow = {
  kind: WorkflowType;
  handle: WorkflowHandle;
  label: string;
};

/**
 * How a start meets a run already going under the same id: a Promise update `supersede`s
 * it (the run finishes its in-flight re-runs, starts no more, and continues as new with
 * the newer spec: nothing is cut short mid-write); a Destination reconcile `terminate`s it
 * (it only writes idempotent placements again); a resource reconcile asks it to go
 * `again` once its pass is done (it may be a Promise update's child); deletions `join` it
 * (a second `delete` waits for the first).
 */
export type OnRunning = 'supersede' | 'terminate' | 'again' | 'join';

export interface StartRequest {
  type: WorkflowType;
  workflowId: string;
  args: unknown[];
  label: string;
  summary: string;
  onRunning: OnRunning;
  /** What the run is for (model/triggers), kept in its memo for later starters to compare. */
  triggerKey?: string;
  searchAttributes?: Parameters<Client['workflow']['start']>[1]['typedSearchAttributes'];
}

export async function startWorkflow(
  client: Client,
  config: PromiseflowConfig,
  request: StartRequest,
): Promise<StartedWorkflow> {
  const options = {
    taskQueue: config.temporal.taskQueue,
    workflowId: request.workflowId,
    args: request.args,
    ...(request.triggerKey ? { memo: { [TRIGGER_MEMO]: request.triggerKey } } : {}),
    ...(request.searchAttributes ? { typedSearchAttributes: request.searchAttributes } : {}),
    staticSummary: request.summary,
  };
  const handle =
    request.onRunning === 'again'
      ? // Starts a run, or signals the one running (atomically, on the server).
        await client.workflow.signalWithStart(request.type, {
          ...options,
          signal: reconcileAgainSignal,
          signalArgs: [request.triggerKey],
        })
      : request.onRunning === 'supersede'
        ? await client.workflow.signalWithStart(request.type, {
            ...options,
            signal: supersedeSignal,
            signalArgs: [
              {
                key: request.triggerKey ?? '',
                options: (request.args[0] as PromiseUpdateInput | undefined)?.options,
              },
            ],
          })
        : await client.workflow.start(request.type, {
            ...options,
            workflowIdConflictPolicy:
              request.onRunning === 'terminate'
                ? WorkflowIdConflictPolicy.TERMINATE_EXISTING
                : WorkflowIdConflictPolicy.USE_EXISTING,
          });
  return { kind: request.type, handle, label: request.label };
}

/** The latest run under an id: whether it is running and what it was started for. */
export interface LastRun {
  running: boolean;
  status: string;
  triggerKey?: string;
}

export async function lastRun(client: Client, workflowId: string): Promise<LastRun | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    const key = d.memo?.[TRIGGER_MEMO];
    return {
      running: d.status.name === 'RUNNING',
      status: d.status.name,
      ...(typeof key === 'string' ? { triggerKey: key } : {}),
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** `promise` as stored (its generation names the spec the update applies). */
export function promiseUpdateStart(
  config: PromiseflowConfig,
  promise: KratixPromise,
  options: Pick<PromiseUpdateOptions, 'rolloutPolicy' | 'rollout'> = {},
): StartRequest {
  const name = promise.metadata.name;
  const version = promiseVersion(promise);
  const key = promiseUpdateKey(promise);
  // A reference, not the object: the update reads the Promise the platform store holds.
  const input: PromiseUpdateInput = {
    promiseName: name,
    options: { concurrency: config.updateConcurrency, ...options },
    key,
  };
  return {
    type: 'promiseUpdate',
    workflowId: workflowIds.promiseUpdate(name),
    args: [input],
    label: `promise/${name} (${version})`,
    summary: `Promise update: ${name} ${version}`,
    onRunning: 'supersede',
    triggerKey: key,
    searchAttributes: [
      { key: SEARCH_ATTRIBUTES.promiseName, value: name },
      { key: SEARCH_ATTRIBUTES.promiseVersion, value: version },
    ],
  };
}

export function startPromiseUpdate(
  client: Client,
  config: PromiseflowConfig,
  promise: KratixPromise,
  options?: Pick<PromiseUpdateOptions, 'rolloutPolicy' | 'rollout'>,
): Promise<StartedWorkflow> {
  return startWorkflow(client, config, promiseUpdateStart(config, promise, options));
}

export function resourceReconcileStart(
  input: ResourceReconcileInput,
  triggerKey?: string,
): StartRequest {
  const where = `${input.promiseName}/${input.namespace}/${input.name}`;
  return {
    type: 'resourceReconcile',
    workflowId: workflowIds.resourceReconcile(input.promiseName, input.namespace, input.name),
    args: [input],
    label: where,
    summary: `Resource reconcile: ${input.promiseName} ${input.namespace}/${input.name} (${input.trigger ?? 'manual'})`,
    onRunning: 'again',
    triggerKey,
    searchAttributes: [{ key: SEARCH_ATTRIBUTES.promiseName, value: input.promiseName }],
  };
}

export function startResourceReconcile(
  client: Client,
  config: PromiseflowConfig,
  input: ResourceReconcileInput,
  triggerKey?: string,
): Promise<StartedWorkflow> {
  return startWorkflow(client, config, resourceReconcileStart(input, triggerKey));
}

export function destinationReconcileStart(
  input: DestinationReconcileInput,
  triggerKey?: string,
): StartRequest {
  return {
    type: 'destinationReconcile',
    workflowId: workflowIds.destinationReconcile(input.name),
    args: [input],
    label: `destination/${input.name}`,
    summary: `Destination reconcile: ${input.name}`,
    onRunning: 'terminate',
    triggerKey,
  };
}

export function startDestinationReconcile(
  client: Client,
  config: PromiseflowConfig,
  input: DestinationReconcileInput,
  triggerKey?: string,
): Promise<StartedWorkflow> {
  return startWorkflow(client, config, destinationReconcileStart(input, triggerKey));
}

/** Deletions run once per object: a second start while one runs joins it. */
export function deletionStart(
  type: Exclude<WorkflowType, 'promiseUpdate' | 'resourceReconcile' | 'destinationReconcile'>,
  target: { name: string; namespace?: string; promiseName?: string; names?: string[] },
  triggerKey?: string,
): StartRequest {
  const { name } = target;
  const ns = target.namespace ?? 'default';
  const promise = target.promiseName ?? '';
  switch (type) {
    case 'resourceDelete':
      return deletion(
        type,
        workflowIds.resourceDelete(promise, ns, name),
        `${promise}/${ns}/${name}`,
        {
          promiseName: promise,
          namespace: ns,
          name,
        },
      );
    case 'promiseDelete':
      return deletion(type, workflowIds.promiseDelete(name), `promise/${name}`, {
        promiseName: name,
      });
    case 'promiseRevisionDelete':
      return deletion(type, workflowIds.promiseRevisionDelete(name), `promiserevision/${name}`, {
        name,
      });
    case 'destinationDelete':
      return deletion(type, workflowIds.destinationDelete(name), `destination/${name}`, { name });
    case 'workPlacementDelete':
      return deletion(
        type,
        workflowIds.workPlacementDelete(name),
        `workplacements (${(target.names ?? [name]).length})`,
        { names: target.names ?? [name] },
      );
  }

  function deletion(t: WorkflowType, workflowId: string, label: string, input: object) {
    return {
      type: t,
      workflowId,
      args: [input],
      label,
      summary: `Delete ${label}`,
      onRunning: 'join' as const,
      triggerKey,
    };
  }
}

export function startResourceDelete(
  client: Client,
  config: PromiseflowConfig,
  ref: { promiseName: string; namespace: string; name: string },
) {
  return startWorkflow(client, config, deletionStart('resourceDelete', ref));
}

export function startPromiseDelete(client: Client, config: PromiseflowConfig, promiseName: string) {
  const request = deletionStart('promiseDelete', { name: promiseName });
  request.args = [{ promiseName, concurrency: config.updateConcurrency }];
  return startWorkflow(client, config, request);
}

export function startPromiseRevisionDelete(
  client: Client,
  config: PromiseflowConfig,
  name: string,
) {
  return startWorkflow(client, config, deletionStart('promiseRevisionDelete', { name }));
}

export function startDestinationDelete(client: Client, config: PromiseflowConfig, name: string) {
  return startWorkflow(client, config, deletionStart('destinationDelete', { name }));
}

export function startWorkPlacementDelete(
  client: Client,
  config: PromiseflowConfig,
  names: string[],
): Promise<StartedWorkflow> {
  // One placement: its own id (so deleting it twice joins); several: one run for the batch.
  const key = names.length === 1 ? names[0]! : `${names.length}-placements-${Date.now()}`;
  return startWorkflow(client, config, deletionStart('workPlacementDelete', { name: key, names }));
}
