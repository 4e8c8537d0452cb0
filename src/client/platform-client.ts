/**
 * The one client surface of the CLI: each verb (apply, get, describe, delete, label, retry,
 * status) is a short method over the platform store and workflow starts; ~460 lines for the
 * verbs together, none long.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { PromiseflowConfig } from '../config';
import { InvalidInputError } from '../model/errors';
import { specHash } from '../model/hashing';
import { LABELS } from '../model/labels';
import { toLabelRequirements } from '../model/selectors';
import type { KratixObject, KratixPromise, StateStore } from '../model/types';
import { DEFAULT_NAMESPACE } from '../model/types';
import { crdOf, validateLabelPatch, validateObject } from '../model/validate';
import { LATEST_REVISION_DELETE_REFUSED } from '../model/revisions';
import type { ObjectKey, PlatformStore, RecordedEvent } from '../platform/store';
import { listAll } from '../platform/store';
import type { PromiseUpdateOptions, UpdateProgress } from '../workflows/promiseUpdate';
import { progressQuery } from '../workflows/messages';
import type { KindInfo } from './kinds';
import { PLATFORM_KINDS, resolveKind, resourceKinds } from './kinds';
import { workflowIds } from '../workflows/ids';
import { lastPromiseUpdate } from './last-update';
import type { WorkflowOutcome } from './outcomes';
import { mapInOrder } from './map-in-order';
import { deepestMessage, waitForWorkflows } from './outcomes';
import { closest } from './suggest';
import type { StartedWorkflow } from './workflow-starts';
import {
  startDestinationDelete,
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
  /** Why an unchanged object still started a workflow (its last update did not succeed). */
  retried?: string;
}

/** The latest update of one Promise, as `promiseflow status` shows it. */
export interface UpdateStatus {
  promiseName: string;
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  state: string;
  progress?: UpdateProgress;
  /** Why there is no progress (an update that failed outright, an unanswered query). */
  error?: string;
}

/**
 * What the CLI, the demo and the Kubernetes bridge do to the platform: store objects in
 * the platform store and start the workflows that act on them. Thin on purpose: every
 * decision about Kratix behaviour lives in model/ and workflows/.
 */
/** Resource requests of one apply stored and started at once. */
const REQUESTS_IN_FLIGHT = 16;
// ConfigMaps too: a request's pipeline may read one applied just before it.
const PLATFORM_KIND_NAMES = new Set([...PLATFORM_KINDS.map((k) => k.kind), 'ConfigMap']);

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
      const guess = closest(arg.toLowerCase().split('.')[0]!, [
        ...kinds.map((k) => k.plural),
        ...kinds.map((k) => k.kind.toLowerCase()),
      ]);
      const meant = guess && resolveKind(guess, kinds)?.plural;
      throw new InvalidInputError({
        field: 'KIND',
        expected: `one of ${kinds.map((k) => k.plural).join(', ')}`,
        got: meant ? `${arg} (did you mean ${meant}?)` : arg,
      });
    }
    return found;
  }

  /**
   * Every object checked as `apply` checks it (requests against the Promises in the file or
   * installed); throws on the first bad one. `apply --dry-run` stops here.
   */
  async validateForApply(
    objects: KratixObject[],
    file: string,
  ): Promise<{
    valid: KratixObject[];
    findPromiseForKind: (apiVersion: string, kind: string) => KratixPromise | undefined;
  }> {
    const promises = await this.promises();
    const findPromiseForKind = (apiVersion: string, kind: string) =>
      [...objects.filter((o): o is KratixPromise => o.kind === 'Promise'), ...promises].find(
        (p) => {
          const crd = crdOf(p);
          return crd !== undefined && crd.kind === kind && apiVersion.startsWith(`${crd.group}/`);
        },
      );
    const valid = objects.map((o) => validateObject(o, { file, findPromiseForKind }));
    return { valid, findPromiseForKind };
  }

  /** Validates every object first (nothing is stored if one is bad), then applies in order. */
  async apply(
    objects: KratixObject[],
    file: string,
    updateOptions?: Pick<PromiseUpdateOptions, 'rolloutPolicy' | 'rollout'>,
  ): Promise<ApplyOutcome[]> {
    const { valid, findPromiseForKind } = await this.validateForApply(objects, file);
    const outcomes: ApplyOutcome[] = [];
    // Platform objects in file order (a store before its Destinations, a Promise before its
    // requests); a run of resource requests, which depend on none of each other, a few at
    // once: a file of thousands is stored and started in seconds, not one by one.
    for (let i = 0; i < valid.length;) {
      const isRequest = (o: KratixObject | undefined) =>
        o !== undefined && !PLATFORM_KIND_NAMES.has(o.kind);
      if (!isRequest(valid[i])) {
        outcomes.push(await this.applyOne(valid[i]!, findPromiseForKind, updateOptions));
        i++;
        continue;
      }
      let end = i;
      while (isRequest(valid[end])) end++;
      outcomes.push(
        ...(await mapInOrder(valid.slice(i, end), REQUESTS_IN_FLIGHT, (o) =>
          this.applyOne(o, findPromiseForKind, updateOptions),
        )),
      );
      i = end;
    }
    return outcomes;
  }

  private async applyOne(
    obj: KratixObject,
    findPromiseForKind: (apiVersion: string, kind: string) => KratixPromise | undefined,
    updateOptions?: Pick<PromiseUpdateOptions, 'rolloutPolicy' | 'rollout'>,
  ): Promise<ApplyOutcome> {
    switch (obj.kind) {
      case 'Promise': {
        const promise = obj as KratixPromise;
        const before = await this.store.get<KratixPromise>({
          kind: 'Promise',
          name: promise.metadata.name,
        });
        const { object: stored, result } = await this.store.apply(promise);
        // Only spec changes (or a new version label) are updates; other metadata is not.
        const isUpdate =
          !before ||
          specHash(before.spec) !== specHash(promise.spec) ||
          before.metadata.labels?.[LABELS.promiseVersion] !==
            promise.metadata.labels?.[LABELS.promiseVersion];
        const object = `promise/${promise.metadata.name}`;
        if (isUpdate) {
          const workflow = await startPromiseUpdate(
            this.temporal,
            this.config,
            stored,
            updateOptions,
          );
          return { object, result, workflow };
        }
        // Unchanged, but a failed or aborted last update has not brought it about yet.
        const last = await lastPromiseUpdate(this.temporal, stored);
        if (last.state !== 'unsucceeded') return { object, result };
        const workflow = await startPromiseUpdate(
          this.temporal,
          this.config,
          stored,
          updateOptions,
        );
        return { object, result, workflow, retried: last.reason };
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
      case 'RolloutPolicy': {
        // Read by the next update of each Promise it selects (a running update keeps its own).
        const { result } = await this.store.apply(obj);
        return { object: `rolloutpolicy/${obj.metadata.name}`, result };
      }
      case 'ConfigMap': {
        // Read by pipelines (env valueFrom/envFrom, volumes) when they run.
        const { result } = await this.store.apply(withNamespace(obj));
        return { object: `configmap/${obj.metadata.name}`, result };
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
      // As kubectl: a namespace means nothing to cluster-scoped kinds.
      namespace: kind.namespaced ? options.namespace : undefined,
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
   * One object by name. Without a namespace, a namespaced object is looked up in every
   * namespace, and a name found in several is refused rather than guessed.
   */
  async findOne(
    kindArg: string,
    name: string,
    namespace?: string,
  ): Promise<{ kind: KindInfo; object: KratixObject }> {
    const { kind, items } = await this.get(kindArg, { name, namespace });
    refuseAmbiguous(kind, name, items);
    return { kind, object: items[0]! };
  }

  /** Events recorded about an object (`describe`), oldest first. */
  async events(key: ObjectKey): Promise<RecordedEvent[]> {
    return this.store.listEvents(key);
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
    if (options.name) refuseAmbiguous(kind, options.name, items);
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
    } else if (kind.kind === 'Destination') {
      // Work placed on a deleted Destination is misplaced (its files stay where they are);
      // a resource whose Destination went is rescheduled to another match.
      for (const n of names) {
        await this.store.delete({ kind: 'Destination', name: n });
        workflows.push(await startDestinationDelete(this.temporal, this.config, n));
      }
    } else if (
      ['GitStateStore', 'BucketStateStore', 'Secret', 'RolloutPolicy'].includes(kind.kind)
    ) {
      for (const i of items) {
        await this.store.delete({
          kind: kind.kind,
          name: i.metadata.name,
          namespace: i.metadata.namespace,
        });
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
    namespace?: string,
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
    validateLabelPatch(`${kind.kind} "${name}"`, patch);
    const { object: first } = await this.findOne(kind.kind, name, namespace);
    const updated = await this.store.patchLabels(
      { kind: kind.kind, name, namespace: first.metadata.namespace },
      patch,
    );
    const workflow =
      kind.kind === 'Destination'
        ? await startDestinationReconcile(this.temporal, this.config, { name })
        : undefined;
    return { labels: updated?.metadata.labels ?? {}, workflow };
  }

  /** `retry promise NAME`: a new update when the last one failed, was aborted or never ran. */
  async retryPromise(name: string): Promise<{ workflow: StartedWorkflow; reason: string }> {
    const promise = (await this.get('promises', { name })).items[0] as KratixPromise;
    const last = await lastPromiseUpdate(this.temporal, promise);
    if (last.state !== 'unsucceeded') {
      throw new InvalidInputError({
        object: `Promise "${name}"`,
        expected: 'a Promise whose last update failed or was aborted',
        got:
          last.state === 'running'
            ? `an update still running (${last.workflowId}; abort it first)`
            : `a last update that succeeded (${last.workflowId})`,
      });
    }
    const workflow = await startPromiseUpdate(this.temporal, this.config, promise);
    return { workflow, reason: last.reason };
  }

  /** `retry KIND NAME [-n NS]`: re-runs one resource request's reconcile. */
  async retryResource(kindArg: string, name: string, namespace?: string): Promise<StartedWorkflow> {
    const kind = await this.resolveKind(kindArg);
    if (!kind.promiseName) {
      throw new InvalidInputError({
        field: 'KIND',
        expected: 'promise, or the kind of a Promise API (e.g. mongodbs)',
        got: kindArg,
      });
    }
    // Refuses one that does not exist, or a name found in several namespaces.
    const { object } = await this.findOne(kind.kind, name, namespace);
    return startResourceReconcile(this.temporal, this.config, {
      promiseName: kind.promiseName,
      namespace: object.metadata.namespace ?? DEFAULT_NAMESPACE,
      name,
      trigger: 'retry',
    });
  }

  /**
   * The latest update of each Promise of this platform (or of one): progress from the
   * `progress` query while it runs, from its result once it completed, else why it ended.
   */
  async updates(promiseName?: string): Promise<UpdateStatus[]> {
    const names = promiseName
      ? [(await this.findOne('promises', promiseName)).object.metadata.name]
      : (await this.promises()).map((p) => p.metadata.name);
    const out: UpdateStatus[] = [];
    for (const name of names) {
      const workflowId = workflowIds.promiseUpdate(name);
      const handle = this.temporal.workflow.getHandle(workflowId);
      let state: string;
      try {
        state = (await handle.describe()).status.name;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) continue;
        throw err;
      }
      const row: UpdateStatus = { promiseName: name, workflowId, state };
      try {
        if (state === 'RUNNING') row.progress = await handle.query(progressQuery);
        else if (state === 'COMPLETED') row.progress = (await handle.result()) as UpdateProgress;
        else await handle.result();
      } catch (err) {
        row.error = deepestMessage(err);
      }
      out.push(row);
    }
    return out;
  }

  /** Waits for started workflows; a failed one is reported, never thrown. */
  waitFor(
    started: StartedWorkflow[],
    onProgress?: (label: string, progress: UpdateProgress) => void,
  ): Promise<WorkflowOutcome[]> {
    return waitForWorkflows(started, onProgress);
  }
}

function refuseAmbiguous(kind: KindInfo, name: string, items: KratixObject[]): void {
  if (items.length <= 1) return;
  throw new InvalidInputError({
    object: `${kind.kind} "${name}"`,
    expected: 'a namespace (-n NAMESPACE): the name is in more than one',
    got: `namespaces ${items.map((i) => i.metadata.namespace ?? '').join(', ')}`,
  });
}

function withNamespace(obj: KratixObject): KratixObject {
  return {
    ...obj,
    metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? DEFAULT_NAMESPACE },
  };
}

export type { WorkflowOutcome };
export { deepestMessage };
