/**
 * `promiseflow apply --dry-run`: every object validated as `apply` validates it, each
 * Promise planned (client/plan.ts), every other object compared with what is stored.
 * Stores nothing and starts nothing.
 */
import { canonicalJson } from '../model/hashing';
import type { KratixObject, KratixPromise } from '../model/types';
import { DEFAULT_NAMESPACE } from '../model/types';
import type { UpdatePlan } from '../model/update-plan';
import type { ApplyResult } from '../platform/store';
import type { PlanOptions, PlanPorts } from './plan';
import { planPromiseUpdate } from './plan';
import type { PromiseflowClient } from './platform-client';

export interface DryRunOutcome {
  /** Named as `apply` names it: `promise/mongodb`, `mongodb/default/mongo-v4`, ... */
  object: string;
  result: ApplyResult;
  plan?: UpdatePlan;
}

const NAMESPACED_PLATFORM_KINDS = new Set(['Secret', 'ConfigMap', 'ResourceBinding']);
const CLUSTER_KINDS = new Set(['Promise', 'Destination', 'GitStateStore', 'BucketStateStore']);

/** What the platform store's apply compares: everything but status and managed metadata. */
function comparable(o: KratixObject): string {
  const rest: Record<string, unknown> = { ...o };
  delete rest.status;
  const metadata: Record<string, unknown> = { ...o.metadata };
  for (const k of ['uid', 'creationTimestamp', 'generation', 'resourceVersion', 'managedFields']) {
    delete metadata[k];
  }
  return canonicalJson({ ...rest, metadata });
}

export async function dryRunApply(
  client: PromiseflowClient,
  ports: PlanPorts,
  objects: KratixObject[],
  file: string,
  options: Omit<PlanOptions, 'file'> = {},
): Promise<DryRunOutcome[]> {
  const { valid } = await client.validateForApply(objects, file);
  const outcomes: DryRunOutcome[] = [];
  for (const obj of valid) {
    const isRequest = !CLUSTER_KINDS.has(obj.kind) && !NAMESPACED_PLATFORM_KINDS.has(obj.kind);
    const namespaced = isRequest || NAMESPACED_PLATFORM_KINDS.has(obj.kind);
    const candidate = namespaced
      ? {
          ...obj,
          metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? DEFAULT_NAMESPACE },
        }
      : obj;
    const stored = await client.store
      .get({
        kind: obj.kind,
        name: obj.metadata.name,
        ...(namespaced ? { namespace: candidate.metadata.namespace } : {}),
      })
      // A request of a Promise the platform does not serve yet has nowhere to be.
      .catch(() => undefined);
    const result: ApplyResult = !stored
      ? 'created'
      : comparable(stored) === comparable(candidate)
        ? 'unchanged'
        : 'configured';
    const kind = obj.kind.toLowerCase();
    const object = isRequest
      ? `${kind}/${candidate.metadata.namespace}/${obj.metadata.name}`
      : `${kind}/${obj.metadata.name}`;
    const outcome: DryRunOutcome = { object, result };
    if (obj.kind === 'Promise') {
      outcome.plan = await planPromiseUpdate(ports, obj as KratixPromise, { ...options, file });
    }
    outcomes.push(outcome);
  }
  return outcomes;
}
