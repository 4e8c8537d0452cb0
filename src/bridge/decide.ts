/**
 * What the bridge does about one object, as a pure function of what its caches hold: add
 * our finalizer, start a workflow (which one, with what input and trigger key), report the
 * object invalid, or nothing. No I/O here, so every rule is unit-tested.
 */
import { CONDITION, REASON } from '../model/conditions';
import { isBeingDeleted } from '../model/objects';
import { resourceBindingName } from '../model/revisions';
import {
  deletionKey,
  destinationReconcileKey,
  manualKey,
  manualReconciliationRequested,
  promiseAvailable,
  promiseNeedsUpdate,
  promiseUpdateKey,
  resourceNeedsReconcile,
  resourceReconcileKey,
} from '../model/triggers';
import type { Condition, KratixObject, KratixPromise } from '../model/types';
import { DEFAULT_NAMESPACE } from '../model/types';
import { crdOf, validateObject } from '../model/validate';
import { PROMISEFLOW_FINALIZER } from '../platform/kubernetes/store';
import type { WorkflowType } from '../workflows/ids';

/** The bridge's view of the cluster: the informer caches. */
export interface ClusterView {
  promise(name: string): KratixPromise | undefined;
  promises(): KratixPromise[];
  binding(namespace: string, name: string): KratixObject | undefined;
  /** A resource request of `promise`'s API. */
  request(promise: KratixPromise, namespace: string, name: string): KratixObject | undefined;
  stateStore(kind: string, name: string): KratixObject | undefined;
}

export interface WorkflowWanted {
  type: WorkflowType;
  /** What `workflow-starts` builds the start from. */
  target: {
    name: string;
    namespace?: string;
    promiseName?: string;
  };
  triggerKey: string;
  /**
   * A run for another key is going: reconciles wait for it to end (never killed mid-write);
   * a Promise update is asked to stop starting resources (abort) and then replaced.
   */
  whileOtherRuns: 'wait' | 'supersede';
  /** The manual-reconciliation label to clear once started. */
  clearsManualLabel?: boolean;
}

export interface Decision {
  addFinalizer: boolean;
  workflow?: WorkflowWanted;
  /** The object cannot be acted on: a condition and a Warning event say why. */
  invalid?: { condition: Condition; message: string };
  /** Nothing to do yet; why (for logs). */
  waiting?: string;
}

/** Kinds whose deletion runs a workflow first (our finalizer holds them until it is done). */
const FINALIZED = new Set(['Promise', 'PromiseRevision', 'Destination', 'WorkPlacement']);

const hasFinalizer = (o: KratixObject) =>
  ((o.metadata.finalizers as string[] | undefined) ?? []).includes(PROMISEFLOW_FINALIZER);

export function decide(object: KratixObject, view: ClusterView): Decision {
  const finalized = FINALIZED.has(object.kind) || promiseServing(object, view) !== undefined;
  if (isBeingDeleted(object)) {
    // Not ours to hold (added before the bridge ran, or already released): nothing to run.
    if (!finalized || !hasFinalizer(object)) return { addFinalizer: false };
    return { addFinalizer: false, workflow: deletionWanted(object, view) };
  }
  const decision: Decision = { addFinalizer: finalized && !hasFinalizer(object) };
  switch (object.kind) {
    case 'Promise':
      return withWorkflow(decision, promiseWanted(object as KratixPromise));
    case 'Destination':
      return withWorkflow(decision, destinationWanted(object, view));
    case 'ResourceBinding':
      return withWorkflow(decision, bindingWanted(object, view));
    case 'PromiseRevision':
    case 'WorkPlacement':
    case 'GitStateStore':
    case 'BucketStateStore':
      return decision;
    default: {
      const promise = promiseServing(object, view);
      if (!promise) return { ...decision, waiting: `no Promise serves ${object.kind}` };
      return withWorkflow(decision, requestWanted(object, promise, view));
    }
  }
}

function withWorkflow(
  decision: Decision,
  wanted: WorkflowWanted | Pick<Decision, 'invalid' | 'waiting'> | undefined,
): Decision {
  if (!wanted) return decision;
  if ('type' in wanted) return { ...decision, workflow: wanted };
  return { ...decision, ...wanted };
}

function invalid(object: KratixObject, err: unknown): Pick<Decision, 'invalid'> {
  const message = err instanceof Error ? err.message : String(err);
  return {
    invalid: {
      message,
      condition: {
        type: object.kind === 'Destination' ? CONDITION.ready : CONDITION.reconciled,
        status: 'False',
        reason: REASON.invalidSpec,
        message,
      },
    },
  };
}

/** The cluster's objects are checked by the same rules as `promiseflow apply`. */
function validate(object: KratixObject): Pick<Decision, 'invalid'> | undefined {
  try {
    validateObject(object, { file: 'cluster' });
    return undefined;
  } catch (err) {
    return invalid(object, err);
  }
}

/**
 * The key and label clean-up of a run: the object's key, or a key of its own when someone
 * asked for a re-run with `kratix.io/manual-reconciliation=true`.
 */
function keyed(
  object: KratixObject,
  key: string,
): Pick<WorkflowWanted, 'triggerKey' | 'clearsManualLabel'> {
  const manual = manualReconciliationRequested(object);
  return { triggerKey: manual ? manualKey(key, object) : key, clearsManualLabel: manual };
}

function promiseWanted(
  promise: KratixPromise,
): WorkflowWanted | Pick<Decision, 'invalid'> | undefined {
  const manual = manualReconciliationRequested(promise);
  if (!manual && !promiseNeedsUpdate(promise)) return undefined;
  const bad = validate(promise);
  if (bad) return bad;
  return {
    type: 'promiseUpdate',
    target: { name: promise.metadata.name },
    whileOtherRuns: 'supersede',
    ...keyed(promise, promiseUpdateKey(promise)),
  };
}

function destinationWanted(
  destination: KratixObject,
  view: ClusterView,
): WorkflowWanted | Pick<Decision, 'invalid'> {
  const bad = validate(destination);
  if (bad) return bad;
  const ref = (destination.spec as { stateStoreRef?: { kind: string; name: string } })
    .stateStoreRef;
  const store = ref ? view.stateStore(ref.kind, ref.name) : undefined;
  return {
    type: 'destinationReconcile',
    target: { name: destination.metadata.name },
    whileOtherRuns: 'wait',
    ...keyed(destination, destinationReconcileKey(destination, store)),
  };
}

function requestWanted(
  request: KratixObject,
  promise: KratixPromise,
  view: ClusterView,
): WorkflowWanted | Pick<Decision, 'waiting'> | undefined {
  const namespace = request.metadata.namespace ?? DEFAULT_NAMESPACE;
  const promiseName = promise.metadata.name;
  const binding = view.binding(namespace, resourceBindingName(promiseName, request.metadata.name));
  const manual = manualReconciliationRequested(request);
  if (!manual && !resourceNeedsReconcile(request, binding)) return undefined;
  if (!promiseAvailable(promise)) {
    return { waiting: `Promise "${promiseName}" is not available yet` };
  }
  return {
    type: 'resourceReconcile',
    target: { name: request.metadata.name, namespace, promiseName },
    whileOtherRuns: 'wait',
    ...keyed(request, resourceReconcileKey(request, binding)),
  };
}

/** A ResourceBinding's spec changed (a version pinned): its request re-runs. */
function bindingWanted(
  binding: KratixObject,
  view: ClusterView,
): WorkflowWanted | Pick<Decision, 'waiting'> | undefined {
  const spec = binding.spec as
    | { promiseRef?: { name?: string }; resourceRef?: { name?: string; namespace?: string } }
    | undefined;
  const promise = spec?.promiseRef?.name ? view.promise(spec.promiseRef.name) : undefined;
  const name = spec?.resourceRef?.name;
  if (!promise || !name) return undefined;
  const namespace = spec.resourceRef?.namespace ?? binding.metadata.namespace ?? DEFAULT_NAMESPACE;
  const request = view.request(promise, namespace, name);
  // The same decision (and trigger key) as the request's own: one run, whichever event came.
  return request ? requestWanted(request, promise, view) : undefined;
}

function deletionWanted(object: KratixObject, view: ClusterView): WorkflowWanted | undefined {
  const key = deletionKey(object);
  const name = object.metadata.name;
  switch (object.kind) {
    case 'Promise':
      return { type: 'promiseDelete', target: { name }, triggerKey: key, whileOtherRuns: 'wait' };
    case 'PromiseRevision':
      return {
        type: 'promiseRevisionDelete',
        target: { name },
        triggerKey: key,
        whileOtherRuns: 'wait',
      };
    case 'Destination':
      return {
        type: 'destinationDelete',
        target: { name },
        triggerKey: key,
        whileOtherRuns: 'wait',
      };
    case 'WorkPlacement':
      return {
        type: 'workPlacementDelete',
        target: { name },
        triggerKey: key,
        whileOtherRuns: 'wait',
      };
    default: {
      const promise = promiseServing(object, view);
      if (!promise) return undefined;
      return {
        type: 'resourceDelete',
        target: {
          name,
          namespace: object.metadata.namespace ?? DEFAULT_NAMESPACE,
          promiseName: promise.metadata.name,
        },
        triggerKey: key,
        whileOtherRuns: 'wait',
      };
    }
  }
}

/** The Promise whose API `object` is a request of, if any. */
export function promiseServing(object: KratixObject, view: ClusterView): KratixPromise | undefined {
  const group = object.apiVersion?.split('/')[0];
  return view.promises().find((p) => {
    const api = crdOf(p);
    return api !== undefined && api.kind === object.kind && api.group === group;
  });
}
