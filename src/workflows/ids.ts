/**
 * Workflow ids, defined once for the CLI, the client, the bridge and the workflows: one
 * running workflow per object and purpose, whoever starts it, so duplicate starts (a
 * re-apply, a second bridge, a restarted bridge) find the running one instead of doubling
 * the work.
 */
export const workflowIds = {
  promiseUpdate: (promise: string) => `promise-update/${promise}`,
  resourceReconcile: (promise: string, namespace: string, name: string) =>
    `resource-reconcile/${promise}/${namespace}/${name}`,
  destinationReconcile: (name: string) => `destination-reconcile/${name}`,
  destinationDelete: (name: string) => `destination-delete/${name}`,
  workPlacementDelete: (key: string) => `workplacement-delete/${key}`,
  resourceDelete: (promise: string, namespace: string, name: string) =>
    `resource-delete/${promise}/${namespace}/${name}`,
  promiseDelete: (promise: string) => `promise-delete/${promise}`,
  promiseRevisionDelete: (name: string) => `promiserevision-delete/${name}`,
};

/** Workflow types as registered by the worker (the exported function names). */
export type WorkflowType =
  | 'promiseUpdate'
  | 'resourceReconcile'
  | 'destinationReconcile'
  | 'destinationDelete'
  | 'workPlacementDelete'
  | 'resourceDelete'
  | 'promiseDelete'
  | 'promiseRevisionDelete';

/** Memo key under which a start records what it was started for (see model/triggers). */
export const TRIGGER_MEMO = 'triggerKey';
