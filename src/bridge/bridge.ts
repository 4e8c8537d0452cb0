/**
 * The bridge: Kubernetes objects in, Temporal workflows out. It watches Kratix's kinds and
 * every installed Promise's API, decides per object (bridge/decide.ts) and starts the same
 * workflows, with the same ids, as the CLI. It keeps no state of its own: each decision is
 * made again from the objects and from what Temporal says ran, so duplicate events, a
 * restart or a second bridge never double the work. One bridge leads (a Lease).
 *
 * ~370 lines: the watch wiring, the cluster view for decide.ts, and the acting on one
 * decision (finalizer, condition, start, supersede) read best together.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { PromiseflowConfig } from '../config';
import { setCondition } from '../model/conditions';
import { MANUAL_RECONCILIATION_LABEL, runCovers } from '../model/triggers';
import type { Condition, KratixObject, KratixPromise } from '../model/types';
import { SYSTEM_NAMESPACE } from '../model/types';
import { crdOf } from '../model/validate';
import { installPlatformApi } from '../platform/kubernetes/crds';
import type { KubeObject } from '../platform/kubernetes/object-api';
import { isConflict, isNotFound } from '../platform/kubernetes/object-api';
import type { ResourceType } from '../platform/kubernetes/resource-types';
import { staticType } from '../platform/kubernetes/resource-types';
import { KubernetesPlatformStore, PROMISEFLOW_FINALIZER } from '../platform/kubernetes/store';
import type { StartRequest } from '../client/workflow-starts';
import {
  deletionStart,
  destinationReconcileStart,
  lastRun,
  promiseUpdateStart,
  resourceReconcileStart,
  startWorkflow,
} from '../client/workflow-starts';
import { supersedeSignal } from '../workflows/messages';
import type { PromiseUpdateInput } from '../workflows/promiseUpdate';
import type { ClusterView, WorkflowWanted } from './decide';
import { decide } from './decide';
import { Informer } from './informer';
import { LeaderElector } from './leader';
import { WorkQueue } from './queue';

export interface BridgeOptions {
  kubeConfig: KubeConfig;
  temporal: Client;
  config: PromiseflowConfig;
  logger: Logger;
  /** Candidate name in the Lease (default host-pid-random). */
  identity?: string;
  /** Every object is decided again this often, whatever the events (default 60 s). */
  resyncMs?: number;
  /** Objects decided at once (default 8). */
  concurrency?: number;
  /** Called when leadership is lost; the process should exit and be restarted. */
  onLeadershipLost?: () => void;
}

const WATCHED = [
  'Promise',
  'PromiseRevision',
  'ResourceBinding',
  'Destination',
  'GitStateStore',
  'BucketStateStore',
  'WorkPlacement',
];
/** How soon to look again at an object whose workflow waits for another run to end. */
const WAIT_RECHECK_MS = 2_000;
/** A deletion whose run failed is tried again this long after. */
const DELETE_RETRY_MS = 30_000;
export const LEASE_NAME = 'promiseflow-bridge';

const keyOf = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}|${namespace ?? ''}|${name}`;

export class Bridge {
  readonly store: KubernetesPlatformStore;
  private readonly informers = new Map<string, Informer>();
  private readonly queue: WorkQueue;
  private readonly elector: LeaderElector;
  private readonly failedDeletions = new Map<string, number>();
  private resync?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: BridgeOptions) {
    this.store = new KubernetesPlatformStore({
      kubeConfig: options.kubeConfig,
      component: 'promiseflow-bridge',
    });
    this.queue = new WorkQueue(
      (key) => this.handle(key),
      options.concurrency ?? 8,
      (key, err) => {
        options.logger.warn({ object: key, err: errorMessage(err) }, 'decision failed; retrying');
        this.queue.addAfter(key, WAIT_RECHECK_MS);
      },
    );
    this.elector = new LeaderElector({
      kubeConfig: options.kubeConfig,
      namespace: SYSTEM_NAMESPACE,
      name: LEASE_NAME,
      identity:
        options.identity ??
        `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      logger: options.logger,
    });
  }

  /** Installs Kratix's API, waits to lead, then watches and acts until stopped. */
  async start(): Promise<void> {
    const { logger } = this.options;
    await installPlatformApi(this.options.kubeConfig);
    logger.info('platform API installed (CRDs, namespace, admission policy)');
    await this.elector.run(() => {
      void this.stop().then(() => this.options.onLeadershipLost?.());
    });
    for (const kind of WATCHED) this.watch(staticType(kind)!);
    await Promise.all([...this.informers.values()].map((i) => i.hasSynced()));
    const resyncMs = this.options.resyncMs ?? 60_000;
    this.resync = setInterval(() => this.enqueueAll(), resyncMs);
    this.resync.unref();
    logger.info({ resyncMs }, 'bridge watching');
  }

  /** Resolves when no decision is pending (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    this.queue.stop();
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
    await this.elector.stop();
  }

  private watch(type: ResourceType): void {
    if (this.stopped || this.informers.has(type.kind)) return;
    const informer = new Informer(
      this.options.kubeConfig,
      type,
      (object, deleted) => this.onChange(object, deleted),
      this.options.logger,
    );
    this.informers.set(type.kind, informer);
    void informer.start();
  }

  private onChange(object: KubeObject, deleted: boolean): void {
    const kind = object.kind ?? '';
    const { name, namespace } = object.metadata;
    if (!deleted) this.queue.add(keyOf(kind, namespace, name));
    if (kind === 'Promise') this.onPromise(object as unknown as KratixPromise, deleted);
    if (kind === 'GitStateStore' || kind === 'BucketStateStore') {
      // A Destination's readiness and writes depend on its state store.
      for (const d of this.cached('Destination')) {
        const ref = (d.spec as { stateStoreRef?: { kind?: string; name?: string } } | undefined)
          ?.stateStoreRef;
        if (ref?.kind === kind && ref.name === name) {
          this.queue.add(keyOf('Destination', undefined, d.metadata.name));
        }
      }
    }
  }

  /** A Promise's API is watched as soon as it is served; its requests wait on it. */
  private onPromise(promise: KratixPromise, deleted: boolean): void {
    const api = crdOf(promise);
    if (!api) return;
    if (deleted) {
      void this.informers.get(api.kind)?.stop();
      this.informers.delete(api.kind);
      return;
    }
    this.watch({
      kind: api.kind,
      group: api.group,
      version: api.storageVersion,
      plural: api.plural,
      namespaced: true,
    });
    // Requests waiting for the Promise to become available are decided again.
    for (const r of this.cached(api.kind)) {
      this.queue.add(keyOf(api.kind, r.metadata.namespace, r.metadata.name));
    }
  }

  private enqueueAll(): void {
    for (const [kind, informer] of this.informers) {
      for (const o of informer.list())
        this.queue.add(keyOf(kind, o.metadata.namespace, o.metadata.name));
    }
  }

  private cached(kind: string): KratixObject[] {
    return (this.informers.get(kind)?.list() ?? []) as unknown as KratixObject[];
  }

  private readonly view: ClusterView = {
    promise: (name) => this.informers.get('Promise')?.get(name) as KratixPromise | undefined,
    promises: () => this.cached('Promise') as KratixPromise[],
    binding: (namespace, name) =>
      this.informers.get('ResourceBinding')?.get(name, namespace) as KratixObject | undefined,
    stateStore: (kind, name) => this.informers.get(kind)?.get(name) as KratixObject | undefined,
    request: (promise, namespace, name) => {
      const api = crdOf(promise);
      return api
        ? (this.informers.get(api.kind)?.get(name, namespace) as KratixObject | undefined)
        : undefined;
    },
  };

  private async handle(key: string): Promise<void> {
    const [kind, namespace, name] = key.split('|') as [string, string, string];
    const cachedObject = this.informers.get(kind)?.get(name, namespace || undefined);
    if (!cachedObject) return; // gone: its deletion (if it had one to run) already ran
    const object = { ...(cachedObject as unknown as KratixObject), kind };
    const decision = decide(object, this.view);
    const log = this.options.logger.child({ object: key });
    if (decision.addFinalizer) await this.addFinalizer(object);
    if (decision.invalid) await this.reportInvalid(object, decision.invalid);
    if (decision.waiting) log.debug({ reason: decision.waiting }, 'waiting');
    if (decision.workflow) await this.ensureWorkflow(key, object, decision.workflow, log);
  }

  private async addFinalizer(object: KratixObject): Promise<void> {
    const type = await this.store.typeOf(object.kind);
    if (!type) return;
    const finalizers = (object.metadata.finalizers as string[] | undefined) ?? [];
    try {
      await this.store.api.mergePatch(type, object.metadata.namespace, object.metadata.name, {
        metadata: {
          resourceVersion: object.metadata.resourceVersion,
          finalizers: [...finalizers, PROMISEFLOW_FINALIZER],
        },
      });
    } catch (err) {
      // Changed meanwhile: the next event decides again with the fresh object.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  /** A condition on the object says why nothing runs; an event when that is news. */
  private async reportInvalid(
    object: KratixObject,
    invalid: { condition: Condition; message: string },
  ): Promise<void> {
    const key = {
      kind: object.kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace,
    };
    let changed = false;
    await this.store.mutateStatus(key, (current) => {
      const conditions = (current.status?.conditions ?? []) as Condition[];
      const before = conditions.find((c) => c.type === invalid.condition.type);
      if (
        before?.status === invalid.condition.status &&
        before.reason === invalid.condition.reason &&
        before.message === invalid.condition.message
      ) {
        return undefined;
      }
      changed = true;
      return {
        ...(current.status ?? {}),
        conditions: setCondition(conditions, invalid.condition, new Date().toISOString()),
      };
    });
    if (changed) {
      this.options.logger.warn({ object: key, reason: invalid.message }, 'invalid object');
      await this.store.recordEvent(key, {
        type: 'Warning',
        reason: invalid.condition.reason,
        message: invalid.message,
      });
    }
  }

  private startRequest(object: KratixObject, wanted: WorkflowWanted): StartRequest {
    const { config } = this.options;
    const { target, triggerKey } = wanted;
    let request: StartRequest;
    switch (wanted.type) {
      case 'promiseUpdate':
        request = promiseUpdateStart(config, object as KratixPromise);
        break;
      case 'resourceReconcile':
        request = resourceReconcileStart({
          promiseName: target.promiseName!,
          namespace: target.namespace!,
          name: target.name,
          trigger: object.status?.observedGeneration === undefined ? 'create' : 'update',
        });
        break;
      case 'destinationReconcile':
        request = destinationReconcileStart({ name: target.name });
        break;
      default:
        request = deletionStart(wanted.type, target);
        if (wanted.type === 'promiseDelete') {
          request.args = [{ promiseName: target.name, concurrency: config.updateConcurrency }];
        }
    }
    // Checked just before: nothing runs under this id, so a start racing ours is joined.
    return { ...request, triggerKey, onRunning: 'join' };
  }

  private async ensureWorkflow(
    key: string,
    object: KratixObject,
    wanted: WorkflowWanted,
    log: Logger,
  ): Promise<void> {
    const { temporal } = this.options;
    const request = this.startRequest(object, wanted);
    const last = await lastRun(temporal, request.workflowId);
    const covered = last && runCovers(last.triggerKey, wanted.triggerKey);
    if (covered && (last.running || last.status === 'COMPLETED' || !isDeletion(wanted))) {
      return; // started for exactly this (running, or done with its outcome recorded)
    }
    if (covered) {
      // A deletion that failed is tried again, not in a hot loop.
      const since = this.failedDeletions.get(request.workflowId);
      if (since === undefined) this.failedDeletions.set(request.workflowId, Date.now());
      if (since === undefined || Date.now() - since < DELETE_RETRY_MS) {
        this.queue.addAfter(key, DELETE_RETRY_MS);
        return;
      }
      this.failedDeletions.delete(request.workflowId);
    }
    if (last?.running) {
      if (wanted.whileOtherRuns === 'supersede' && wanted.type === 'promiseUpdate') {
        // In-flight resources finish; no new ones start; then the run continues as new
        // with the newer spec (its memo then carries the newer key, so this is covered).
        const input = request.args[0] as PromiseUpdateInput;
        await temporal.workflow
          .getHandle(request.workflowId)
          .signal(supersedeSignal, { key: wanted.triggerKey, options: input.options })
          .catch(() => undefined);
      }
      log.debug({ workflowId: request.workflowId, running: last.triggerKey }, 'waiting for run');
      this.queue.addAfter(key, WAIT_RECHECK_MS);
      return;
    }
    const started = await startWorkflow(temporal, this.options.config, request);
    log.info(
      { workflowId: request.workflowId, type: wanted.type, triggerKey: wanted.triggerKey },
      'workflow started',
    );
    const ref = {
      kind: object.kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace,
    };
    await this.store.recordEvent(ref, {
      type: 'Normal',
      reason: 'WorkflowStarted',
      message: `${wanted.type} ${started.handle.workflowId} started (${wanted.triggerKey})`,
    });
    if (wanted.clearsManualLabel) {
      await this.store.patchLabels(ref, { [MANUAL_RECONCILIATION_LABEL]: null });
    }
  }
}

function isDeletion(wanted: WorkflowWanted): boolean {
  return wanted.type.endsWith('Delete');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
