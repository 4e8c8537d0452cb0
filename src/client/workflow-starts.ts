import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { PromiseflowConfig } from '../config';
import type { KratixPromise } from '../model/types';
import { promiseVersion } from '../model/validate';
import type { DestinationReconcileInput } from '../workflows/destinationReconcile';
import type { PromiseUpdateInput } from '../workflows/promiseUpdate';
import type { ResourceReconcileInput } from '../workflows/resourceReconcile';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/**
 * Workflow ids: one running workflow per object. Starting again for the same object
 * terminates the older run (a newer spec supersedes an older update cleanly: every
 * activity is idempotent, so work already done is simply found done).
 */
export const workflowIds = {
  promiseUpdate: (promise: string) => `promise-update/${promise}`,
  resourceReconcile: (promise: string, namespace: string, name: string) =>
    `resource-reconcile/${promise}/${namespace}/${name}`,
  destinationReconcile: (name: string) => `destination-reconcile/${name}`,
  workPlacementDelete: (key: string) => `workplacement-delete/${key}`,
  resourceDelete: (promise: string, namespace: string, name: string) =>
    `resource-delete/${promise}/${namespace}/${name}`,
  promiseDelete: (promise: string) => `promise-delete/${promise}`,
  promiseRevisionDelete: (name: string) => `promiserevision-delete/${name}`,
};

export type StartedWorkflow = {
  kind:
    | 'promiseUpdate'
    | 'resourceReconcile'
    | 'destinationReconcile'
    | 'workPlacementDelete'
    | 'resourceDelete'
    | 'promiseDelete'
    | 'promiseRevisionDelete';
  handle: WorkflowHandle;
  label: string;
};

export async function startPromiseUpdate(
  client: Client,
  config: PromiseflowConfig,
  promise: KratixPromise,
): Promise<StartedWorkflow> {
  const input: PromiseUpdateInput = { promise, options: { concurrency: config.updateConcurrency } };
  const version = promiseVersion(promise);
  const handle = await client.workflow.start('promiseUpdate', {
    taskQueue: config.temporal.taskQueue,
    workflowId: workflowIds.promiseUpdate(promise.metadata.name),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    args: [input],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.promiseName, value: promise.metadata.name },
      { key: SEARCH_ATTRIBUTES.promiseVersion, value: version },
    ],
    staticSummary: `Promise update: ${promise.metadata.name} ${version}`,
  });
  return { kind: 'promiseUpdate', handle, label: `promise/${promise.metadata.name} (${version})` };
}

export async function startResourceReconcile(
  client: Client,
  config: PromiseflowConfig,
  input: ResourceReconcileInput,
): Promise<StartedWorkflow> {
  const handle = await client.workflow.start('resourceReconcile', {
    taskQueue: config.temporal.taskQueue,
    workflowId: workflowIds.resourceReconcile(input.promiseName, input.namespace, input.name),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    args: [input],
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.promiseName, value: input.promiseName }],
    staticSummary: `Resource reconcile: ${input.promiseName} ${input.namespace}/${input.name} (${input.trigger ?? 'manual'})`,
  });
  return {
    kind: 'resourceReconcile',
    handle,
    label: `${input.promiseName}/${input.namespace}/${input.name}`,
  };
}

export async function startDestinationReconcile(
  client: Client,
  config: PromiseflowConfig,
  input: DestinationReconcileInput,
): Promise<StartedWorkflow> {
  const handle = await client.workflow.start('destinationReconcile', {
    taskQueue: config.temporal.taskQueue,
    workflowId: workflowIds.destinationReconcile(input.name),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    args: [input],
    staticSummary: `Destination reconcile: ${input.name}`,
  });
  return { kind: 'destinationReconcile', handle, label: `destination/${input.name}` };
}

export async function startWorkPlacementDelete(
  client: Client,
  config: PromiseflowConfig,
  names: string[],
): Promise<StartedWorkflow> {
  const key = names.length === 1 ? names[0]! : `${names.length}-placements-${Date.now()}`;
  const handle = await client.workflow.start('workPlacementDelete', {
    taskQueue: config.temporal.taskQueue,
    workflowId: workflowIds.workPlacementDelete(key),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [{ names }],
    staticSummary: `Delete WorkPlacements: ${names.join(', ')}`,
  });
  return { kind: 'workPlacementDelete', handle, label: `workplacements (${names.length})` };
}

/** Deletions run once per object: a second `delete` while one runs joins it. */
async function startDelete(
  client: Client,
  config: PromiseflowConfig,
  kind: 'resourceDelete' | 'promiseDelete' | 'promiseRevisionDelete',
  workflowId: string,
  input: object,
  label: string,
): Promise<StartedWorkflow> {
  const handle = await client.workflow.start(kind, {
    taskQueue: config.temporal.taskQueue,
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    staticSummary: `Delete ${label}`,
  });
  return { kind, handle, label };
}

export function startResourceDelete(
  client: Client,
  config: PromiseflowConfig,
  ref: { promiseName: string; namespace: string; name: string },
) {
  return startDelete(
    client,
    config,
    'resourceDelete',
    workflowIds.resourceDelete(ref.promiseName, ref.namespace, ref.name),
    ref,
    `${ref.promiseName}/${ref.namespace}/${ref.name}`,
  );
}

export function startPromiseDelete(client: Client, config: PromiseflowConfig, promiseName: string) {
  return startDelete(
    client,
    config,
    'promiseDelete',
    workflowIds.promiseDelete(promiseName),
    { promiseName, concurrency: config.updateConcurrency },
    `promise/${promiseName}`,
  );
}

export function startPromiseRevisionDelete(
  client: Client,
  config: PromiseflowConfig,
  name: string,
) {
  return startDelete(
    client,
    config,
    'promiseRevisionDelete',
    workflowIds.promiseRevisionDelete(name),
    { name },
    `promiserevision/${name}`,
  );
}
