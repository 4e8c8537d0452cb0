import type { Client, WorkflowHandle } from '@temporalio/client';
import type { PromiseflowConfig } from '../config';
import { InvalidInputError } from '../model/errors';
import { specHash } from '../model/hashing';
import { LABELS } from '../model/labels';
import { toLabelRequirements } from '../model/selectors';
import type { KratixObject, KratixPromise, StateStore } from '../model/types';
import { DEFAULT_NAMESPACE } from '../model/types';
import { crdOf, validateObject } from '../model/validate';
import { LATEST_REVISION_DELETE_REFUSED } from '../activities/deletion';
import type { PlatformStore } from '../platform/store';
import { listAll } from '../platform/store';
import type { UpdateProgress } from '../workflows/promiseUpdate';
import type { KindInfo } from './kinds';
import { PLATFORM_KINDS, resolveKind, resourceKinds } from './kinds';
import type { StartedWorkflow } from './workflow-starts';
import {
  startDestinationReconcile,
  startPromiseDelete,
  startPromiseRevisionDelete,
  startPromiseUpdate,
  startResourceDelete,
  startResourceReconcile,
  startWorkPlacementDelete,
} from './workflow-starts';

export interface ApplyOutcome {
  /** `promise/mongodb`, `mongodb/default/mongo-v4`, ... */
  object: string;
  result: 'created' | 'configured' | 'unchanged';
  workflow?: StartedWorkflow;
}

export interface WorkflowOutcome {
  label: string;
  workflowId: string;
  ok: boolean;
  message: string;
  result?: unknown;
}

/**
 * What the CLI, the demo and the Kubernetes bridge do to the platform: store objects in
 * the platform store and start the workflows that act on them. Thin on purpose: every
 * decision about Kratix behaviour lives in model/ and workflows/.
 */
export class PromiseflowClient {
  constructor(
    readonly config: PromiseflowConfig,
    readonly store: PlatformStore,
    readonly temporal: Client,
  ) {}

  async promises(): Promise<KratixPromise[]> {
    return (await this.store.list<KratixPromise>('Promise')).items;
  }

  async kinds(): Promise<KindInfo[]> {
    return [...PLATFORM_KINDS, ...resourceKinds(await this.promises())];
  }

  async resolveKind(arg: string): Promise<KindInfo> {
    const kinds = await this.kinds();
    const found = resolveKind(arg, kinds);
    if (!found) {
      throw new InvalidInputError({
        field: 'KIND',
        expected: `one of ${kinds.map((k) => k.plural).join(', ')}`,
        got: arg,
      });
    }
    return found;
  }

  /** Validates every object first (nothing is stored if one is bad), then applies in order. */
  async apply(objects: KratixObject[], file: string): Promise<ApplyOutcome[]> {
    const promises = await this.promises();
    const findPromiseForKind = (apiVersion: string, kind: string) =>
      [...objects.filter((o): o is KratixPromise => o.kind === 'Promise'), ...promises].find(
        (p) => {
          const crd = crdOf(p);
          return crd !== undefined && crd.kind === kind && apiVersion.startsWith(`${crd.group}/`);
        },
      );
    const valid = objects.map((o) => validateObject(o, { file, findPromiseForKind }));
    const outcomes: ApplyOutcome[] = [];
    for (const obj of valid) outcomes.push(await this.applyOne(obj, findPromiseForKind));
    return outcomes;
  }

  private async applyOne(
    obj: KratixObject,
    findPromiseForKind: (apiVersion: string, kind: string) => KratixPromise | undefined,
  ): Promise<ApplyOutcome> {
    switch (obj.kind) {
      case 'Promise': {
        const promise = obj as KratixPromise;
        const before = await this.store.get<KratixPromise>({
          kind: 'Promise',
          name: promise.metadata.name,
        });
        const { result } = await this.store.apply(promise);
        // Only spec changes (or a new version label) are updates; other metadata is not.
        const isUpdate =
          !before ||
          specHash(before.spec) !== specHash(promise.spec) ||
          before.metadata.labels?.[LABELS.promiseVersion] !==
            promise.metadata.labels?.[LABELS.promiseVersion];
        return {
          object: `promise/${promise.metadata.name}`,
          result,
          workflow: isUpdate
            ? await startPromiseUpdate(this.temporal, this.config, promise)
            : undefined,
        };
      }
      case 'Destination': {
        const { result } = await this.store.apply(obj);
        return {
          object: `destination/${obj.metadata.name}`,
          result,
          workflow:
            result === 'unchanged'
              ? undefined
              : await startDestinationReconcile(this.temporal, this.config, {
                  name: obj.metadata.name,
                }),
        };
      }
      case 'GitStateStore':
      case 'BucketStateStore':
      case 'Secret': {
        const { result } = await this.store.apply(obj.kind === 'Secret' ? withNamespace(obj) : obj);
        if (result !== 'unchanged') await this.reconcileDestinationsUsing(obj);
        return { object: `${obj.kind.toLowerCase()}/${obj.metadata.name}`, result };
      }
      case 'ResourceBinding': {
        const { result } = await this.store.apply(withNamespace(obj));
        const ref = obj.spec as
          | { promiseRef?: { name?: string }; resourceRef?: { name?: string; namespace?: string } }
          | undefined;
        const workflow =
          result !== 'unchanged' && ref?.promiseRef?.name && ref.resourceRef?.name
            ? await startResourceReconcile(this.temporal, this.config, {
                promiseName: ref.promiseRef.name,
                namespace: ref.resourceRef.namespace ?? DEFAULT_NAMESPACE,
                name: ref.resourceRef.name,
                trigger: 'binding-update',
              })
            : undefined;
        return { object: `resourcebinding/${obj.metadata.name}`, result, workflow };
      }
      default: {
        const promise = findPromiseForKind(obj.apiVersion, obj.kind);
        if (!promise) throw new Error(`no Promise serves ${obj.apiVersion} ${obj.kind}`);
        const request = withNamespace(obj);
        const { result } = await this.store.apply(request);
        const namespace = request.metadata.namespace!;
        return {
          object: `${obj.kind.toLowerCase()}/${namespace}/${obj.metadata.name}`,
          result,
          workflow:
            result === 'unchanged'
              ? undefined
              : await startResourceReconcile(this.temporal, this.config, {
                  promiseName: promise.metadata.name,
                  namespace,
                  name: obj.metadata.name,
                  trigger: result === 'created' ? 'create' : 'update',
                }),
        };
      }
    }
  }

  /** A changed state store or secret may make a Destination ready (or not). */
  private async reconcileDestinationsUsing(obj: KratixObject): Promise<void> {
    const destinations = (await this.store.list('Destination')).items;
    const stores =
      obj.kind === 'Secret'
        ? await this.storesUsingSecret(obj.metadata.name)
        : [`${obj.kind}/${obj.metadata.name}`];
    for (const d of destinations) {
      const ref = (d.spec as { stateStoreRef?: { kind: string; name: string } } | undefined)
        ?.stateStoreRef;
      if (ref && stores.includes(`${ref.kind}/${ref.name}`)) {
        await startDestinationReconcile(this.temporal, this.config, { name: d.metadata.name });
      }
    }
  }

  private async storesUsingSecret(name: string): Promise<string[]> {
    const all = [
      ...(await this.store.list<StateStore>('GitStateStore')).items,
      ...(await this.store.list<StateStore>('BucketStateStore')).items,
    ];
    return all
      .filter((s) => s.spec?.secretRef?.name === name)
      .map((s) => `${s.kind}/${s.metadata.name}`);
  }

  async get(
    kindArg: string,
    options: { name?: string; labelSelector?: string; namespace?: string } = {},
  ): Promise<{ kind: KindInfo; items: KratixObject[] }> {
    const kind = await this.resolveKind(kindArg);
    if (options.labelSelector) toLabelRequirements(options.labelSelector); // refuse bad syntax early
    const items = await listAll(this.store, kind.kind, {
      namespace: options.namespace,
      labelSelector: options.labelSelector,
    });
    const filtered = options.name ? items.filter((i) => i.metadata.name === options.name) : items;
    if (options.name && filtered.length === 0) {
      throw new InvalidInputError({
        object: `${kind.kind} "${options.name}"`,
        expected: 'an existing object',
        got: 'not found',
      });
    }
    return { kind, items: filtered };
  }

  /**
   * Deletes by name or selector. Everything with files or pipelines behind it goes through a
   * workflow (WorkPlacements, resource requests, Promises, PromiseRevisions).
   */
  async delete(
    kindArg: string,
    options: { name?: string; labelSelector?: string; namespace?: string },
  ): Promise<{ deleted: string[]; workflows: StartedWorkflow[] }> {
    const { kind, items } = await this.get(kindArg, options);
    const names = items.map((i) => i.metadata.name);
    if (names.length === 0) return { deleted: [], workflows: [] };
    const workflows: StartedWorkflow[] = [];
    if (kind.kind === 'WorkPlacement') {
      workflows.push(await startWorkPlacementDelete(this.temporal, this.config, names));
    } else if (kind.kind === 'PromiseRevision') {
      const latest = items.find((i) => i.metadata.labels?.[LABELS.latestRevision] === 'true');
      if (latest) {
        throw new InvalidInputError({
          object: `PromiseRevision "${latest.metadata.name}"`,
          expected: `a non-latest revision (${LATEST_REVISION_DELETE_REFUSED}; delete the Promise instead)`,
          got: `${LABELS.latestRevision}=true`,
        });
      }
      for (const n of names)
        workflows.push(await startPromiseRevisionDelete(this.temporal, this.config, n));
    } else if (kind.kind === 'Promise') {
      for (const n of names)
        workflows.push(await startPromiseDelete(this.temporal, this.config, n));
    } else if (kind.promiseName) {
      for (const i of items) {
        const ref = {
          promiseName: kind.promiseName,
          namespace: i.metadata.namespace ?? DEFAULT_NAMESPACE,
          name: i.metadata.name,
        };
        workflows.push(await startResourceDelete(this.temporal, this.config, ref));
      }
    } else if (['Destination', 'GitStateStore', 'BucketStateStore', 'Secret'].includes(kind.kind)) {
      for (const i of items) {
        await this.store.delete({
          kind: kind.kind,
          name: i.metadata.name,
          namespace: i.metadata.namespace,
        });
        // Work placed on a deleted Destination is misplaced (its files stay where they
        // are); a resource whose Destination went is rescheduled to another match.
        if (kind.kind === 'Destination') {
          workflows.push(
            await startDestinationReconcile(this.temporal, this.config, { name: i.metadata.name }),
          );
        }
      }
    } else {
      throw new InvalidInputError({
        field: 'KIND',
        expected: 'a kind that can be deleted (works and resourcebindings follow their owners)',
        got: kindArg,
      });
    }
    return { deleted: names, workflows };
  }

  /** `label destination NAME k=v k2-`: labels change scheduling, so the Destination is reconciled. */
  async label(
    kindArg: string,
    name: string,
    changes: string[],
  ): Promise<{ labels: Record<string, string>; workflow?: StartedWorkflow }> {
    const kind = await this.resolveKind(kindArg);
    const patch: Record<string, string | null> = {};
    for (const c of changes) {
      if (c.endsWith('-')) patch[c.slice(0, -1)] = null;
      else {
        const i = c.indexOf('=');
        if (i <= 0)
          throw new InvalidInputError({ field: 'LABEL', expected: 'key=value or key-', got: c });
        patch[c.slice(0, i)] = c.slice(i + 1);
      }
    }
    const [first] = (await this.get(kind.kind, { name })).items;
    const updated = await this.store.patchLabels(
      { kind: kind.kind, name, namespace: first?.metadata.namespace },
      patch,
    );
    const workflow =
      kind.kind === 'Destination'
        ? await startDestinationReconcile(this.temporal, this.config, { name })
        : undefined;
    return { labels: updated?.metadata.labels ?? {}, workflow };
  }

  /** Running Promise updates with their progress (from the workflows' `progress` query). */
  async status(): Promise<
    { workflowId: string; runId: string; progress?: UpdateProgress; error?: string }[]
  > {
    const out: { workflowId: string; runId: string; progress?: UpdateProgress; error?: string }[] =
      [];
    for await (const wf of this.temporal.workflow.list({
      query: `WorkflowType = 'promiseUpdate' AND ExecutionStatus = 'Running'`,
    })) {
      try {
        const progress = await this.temporal.workflow
          .getHandle(wf.workflowId, wf.runId)
          .query<UpdateProgress>('progress');
        out.push({ workflowId: wf.workflowId, runId: wf.runId, progress });
      } catch (err) {
        out.push({ workflowId: wf.workflowId, runId: wf.runId, error: (err as Error).message });
      }
    }
    return out;
  }

  /** Waits for started workflows; a failed one is reported, never thrown. */
  async waitFor(
    started: StartedWorkflow[],
    onProgress?: (label: string, progress: UpdateProgress) => void,
  ): Promise<WorkflowOutcome[]> {
    return Promise.all(
      started.map(async (s) => {
        let timer: NodeJS.Timeout | undefined;
        if (onProgress && s.kind === 'promiseUpdate') {
          timer = setInterval(() => {
            (s.handle as WorkflowHandle)
              .query<UpdateProgress>('progress')
              .then((p) => onProgress(s.label, p))
              .catch(() => undefined);
          }, 500);
        }
        try {
          const result = await s.handle.result();
          const failedResources = (result as UpdateProgress | undefined)?.failed ?? 0;
          if (onProgress && s.kind === 'promiseUpdate')
            onProgress(s.label, result as UpdateProgress);
          return {
            label: s.label,
            workflowId: s.handle.workflowId,
            ok: failedResources === 0,
            message: failedResources ? `${failedResources} resource(s) failed` : 'completed',
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
          if (timer) clearInterval(timer);
        }
      }),
    );
  }
}

function withNamespace(obj: KratixObject): KratixObject {
  return {
    ...obj,
    metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? DEFAULT_NAMESPACE },
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
