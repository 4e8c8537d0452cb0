import { CONDITION, REASON } from '../model/conditions';
import { LABELS } from '../model/labels';
import { buildPromiseRevision } from '../model/revisions';
import type { Condition, KratixPromise, PromiseRevision } from '../model/types';
import { SYSTEM_NAMESPACE } from '../model/types';
import { crdOf, promiseVersion, validatePromise } from '../model/validate';
import { STATIC_DEPENDENCIES_PIPELINE } from '../model/paths';
import { dependenciesWorkloadGroups } from '../model/work-placement';
import { InvalidInputError } from '../model/errors';
import { resourceApiDefinition } from '../model/resource-api';
import { recordEvent, writeStatus } from './status';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded, notFound } from './deps';
import type { PipelineWorkResult, WorkRef } from './works';
import { buildWork, runPipelineToWork, workName } from './works';

export interface PromiseSnapshot {
  promiseName: string;
  version: string;
  revisionName: string;
  generation: number;
  /** Kind of the Promise's resource requests (from its CRD), if it has an API. */
  resourceKind?: string;
  promiseConfigurePipelines: string[];
  hasDependencies: boolean;
  /** The revision that was latest before this update: what a rollback returns to. */
  previous?: { version: string; revisionName: string; promiseConfigurePipelines: string[] };
}

export interface PromiseRef {
  promiseName: string;
  revisionName: string;
}

async function loadRevision(deps: ActivityDeps, name: string): Promise<PromiseRevision> {
  const rev = await deps.store.get<PromiseRevision>({ kind: 'PromiseRevision', name });
  if (!rev?.spec) throw notFound(`PromiseRevision "${name}"`);
  return rev;
}

async function setPromiseConditions(
  deps: ActivityDeps,
  name: string,
  conditions: Condition[],
  extra: Record<string, unknown> = {},
) {
  await writeStatus(deps, { kind: 'Promise', name }, conditions, extra);
}

/** A Promise whose API the platform refuses says so on its own status, then fails. */
async function installResourceApi(deps: ActivityDeps, promise: KratixPromise): Promise<void> {
  const crd = resourceApiDefinition(promise);
  if (!crd) return;
  try {
    await deps.store.ensureResourceApi(crd);
  } catch (err) {
    if (err instanceof InvalidInputError) {
      const key = { kind: 'Promise', name: promise.metadata.name };
      await setPromiseConditions(deps, promise.metadata.name, [
        {
          type: CONDITION.configureWorkflowCompleted,
          status: 'False',
          reason: REASON.invalidSpec,
          message: err.message,
        },
      ]);
      await recordEvent(deps, key, { type: 'Warning', reason: 'InvalidAPI', message: err.message });
    }
    throw err;
  }
}

export function createPromiseActivities(deps: ActivityDeps) {
  return {
    /**
     * Stores the Promise (when given, e.g. by `temporal workflow start`) and snapshots its
     * PromiseRevision: created or updated in place, and made the only latest one.
     */
    async snapshotPromiseRevision(input: {
      promise?: KratixPromise;
      promiseName?: string;
    }): Promise<PromiseSnapshot> {
      return guarded(async () => {
        if (input.promise) {
          const valid = validatePromise(input.promise, 'workflow input');
          await deps.store.apply(valid);
        }
        const name = input.promise?.metadata.name ?? input.promiseName;
        if (!name) throw notFound('Promise (no name given)');
        const promise = await deps.store.get<KratixPromise>({ kind: 'Promise', name });
        if (!promise) throw notFound(`Promise "${name}"`);
        const version = promiseVersion(promise);
        // Served before anything else: requests can be created once the Promise is available.
        await installResourceApi(deps, promise);
        const revision = buildPromiseRevision(promise, version, true);
        await deps.store.apply(revision);
        await deps.store.mutateStatus(
          { kind: 'PromiseRevision', name: revision.metadata.name },
          (r) => ({
            ...(r.status ?? {}),
            latest: true,
          }),
        );
        // Only the most recently applied version is latest (no semver ordering).
        const { items } = await deps.store.list<PromiseRevision>('PromiseRevision', {
          labelSelector: { [LABELS.promiseName]: name, [LABELS.latestRevision]: 'true' },
        });
        const before = items.find((r) => r.metadata.name !== revision.metadata.name);
        for (const other of items) {
          if (other.metadata.name === revision.metadata.name) continue;
          await deps.store.patchLabels(
            { kind: 'PromiseRevision', name: other.metadata.name },
            { [LABELS.latestRevision]: null },
          );
          // `latest` is left out rather than false, as Kratix's omitempty does: the LATEST
          // column stays blank for older revisions.
          await deps.store.mutateStatus(
            { kind: 'PromiseRevision', name: other.metadata.name },
            (r) => {
              const { latest: _l, ...rest } = (r.status ?? {}) as Record<string, unknown>;
              return rest;
            },
          );
        }
        const api = crdOf(promise);
        await setPromiseConditions(
          deps,
          name,
          [
            {
              type: CONDITION.configureWorkflowCompleted,
              status: 'Unknown',
              reason: REASON.pipelinesInProgress,
              message: 'Pipelines are still in progress',
            },
          ],
          {
            version,
            // What the bridge compares with metadata.generation: this spec is being applied.
            observedGeneration: promise.metadata.generation ?? 1,
            // A new update ends a rolled-back rollout's hold on the previous version.
            rollout: undefined,
            ...(api ? { kind: api.kind, apiVersion: `${api.group}/${api.storageVersion}` } : {}),
          },
        );
        await recordEvent(
          deps,
          { kind: 'Promise', name },
          {
            type: 'Normal',
            reason: 'UpdateStarted',
            message: `Applying ${version} (PromiseRevision ${revision.metadata.name})`,
          },
        );
        activityLogger(deps, { promise: name }).info(
          { version, revision: revision.metadata.name },
          'PromiseRevision snapshotted',
        );
        return {
          promiseName: name,
          version,
          revisionName: revision.metadata.name,
          generation: promise.metadata.generation ?? 1,
          resourceKind: crdOf(promise)?.kind,
          promiseConfigurePipelines: (promise.spec?.workflows?.promise?.configure ?? []).map(
            (p) => p.metadata.name,
          ),
          hasDependencies: (promise.spec?.dependencies ?? []).length > 0,
          ...(before?.spec
            ? {
                previous: {
                  version: before.spec.version,
                  revisionName: before.metadata.name,
                  promiseConfigurePipelines: (
                    before.spec.promiseSpec.workflows?.promise?.configure ?? []
                  ).map((p) => p.metadata.name),
                },
              }
            : {}),
        };
      });
    },

    /** Runs one Promise configure Pipeline of the revision; its output becomes a Work. */
    async runPromisePipeline(
      input: PromiseRef & { pipelineIndex: number },
    ): Promise<PipelineWorkResult> {
      return guarded(async () => {
        const revision = await loadRevision(deps, input.revisionName);
        const promise = await deps.store.get<KratixPromise>({
          kind: 'Promise',
          name: input.promiseName,
        });
        if (!promise) throw notFound(`Promise "${input.promiseName}"`);
        const pipeline =
          revision.spec!.promiseSpec.workflows?.promise?.configure?.[input.pipelineIndex];
        if (!pipeline) throw notFound(`Promise configure pipeline #${input.pipelineIndex}`);
        const result = await runPipelineToWork(deps, {
          pipeline,
          object: promise,
          type: 'promise',
          action: 'configure',
          promiseName: input.promiseName,
          promiseSelectors: revision.spec!.promiseSpec.destinationSelectors ?? [],
          work: {
            name: workName([input.promiseName, pipeline.metadata.name]),
            namespace: SYSTEM_NAMESPACE,
          },
          workSpec: {
            source: 'promise',
            promiseName: input.promiseName,
            pipelineName: pipeline.metadata.name,
            replicas: 'all',
          },
        });
        if (result.status) {
          await writeStatus(deps, { kind: 'Promise', name: input.promiseName }, [], result.status);
        }
        return result;
      });
    },

    /** The Promise's static `dependencies` as one Work (always stored, possibly empty). */
    async buildDependenciesWork(input: PromiseRef): Promise<WorkRef> {
      return guarded(async () => {
        const revision = await loadRevision(deps, input.revisionName);
        const ref = {
          name: workName([input.promiseName, STATIC_DEPENDENCIES_PIPELINE, 'dependencies']),
          namespace: SYSTEM_NAMESPACE,
        };
        await deps.store.apply(
          buildWork(ref, {
            source: 'dependencies',
            promiseName: input.promiseName,
            pipelineName: STATIC_DEPENDENCIES_PIPELINE,
            replicas: 'all',
            workloadGroups: dependenciesWorkloadGroups(
              input.promiseName,
              revision.spec!.promiseSpec,
            ),
          }),
        );
        return ref;
      });
    },

    /** Records the outcome of a Promise update on the Promise's status. */
    async recordPromiseOutcome(
      input: PromiseRef & {
        succeeded: boolean;
        message: string;
        resources?: { total: number; done: number; failed: number };
        /** A rollout that stopped short: the fleet is not at this version. */
        rollout?: 'Halted' | 'RolledBack';
      },
    ): Promise<void> {
      return guarded(async () => {
        const conditions: Condition[] = input.succeeded
          ? [
              {
                type: CONDITION.configureWorkflowCompleted,
                status: 'True',
                reason: REASON.pipelinesExecutedSuccessfully,
                message: input.message,
              },
              {
                type: CONDITION.available,
                status: 'True',
                reason: REASON.promiseAvailable,
                message: 'Ready to fulfil resource requests',
              },
            ]
          : [
              {
                type: CONDITION.configureWorkflowCompleted,
                status: 'False',
                reason: REASON.configureWorkflowFailed,
                message: input.message,
              },
            ];
        // The end of an update (it carries the counts): did it bring the whole fleet about?
        const failedResources = (input.resources?.failed ?? 0) > 0;
        if (input.resources) {
          conditions.push({
            type: CONDITION.resourcesReconciled,
            status: input.succeeded && !failedResources && !input.rollout ? 'True' : 'False',
            reason: !input.succeeded
              ? REASON.updateAborted
              : input.rollout === 'Halted'
                ? REASON.rolloutHalted
                : input.rollout === 'RolledBack'
                  ? REASON.rolledBack
                  : failedResources
                    ? REASON.resourcesFailed
                    : REASON.allResourcesReconciled,
            message: input.message,
          });
        }
        const extra: Record<string, unknown> = {};
        if (input.resources) extra.resources = input.resources;
        if (input.succeeded) extra.status = 'Available';
        await setPromiseConditions(deps, input.promiseName, conditions, extra);
        await recordEvent(
          deps,
          { kind: 'Promise', name: input.promiseName },
          !input.succeeded
            ? { type: 'Warning', reason: 'UpdateFailed', message: input.message }
            : input.rollout
              ? {
                  type: 'Warning',
                  reason: input.rollout === 'Halted' ? REASON.rolloutHalted : REASON.rolledBack,
                  message: input.message,
                }
              : failedResources
                ? { type: 'Warning', reason: REASON.resourcesFailed, message: input.message }
                : { type: 'Normal', reason: 'Available', message: input.message },
        );
        const log = activityLogger(deps, { promise: input.promiseName });
        if (input.succeeded)
          log.info({ revision: input.revisionName, ...input.resources }, input.message);
        else log.error({ revision: input.revisionName }, input.message);
      });
    },
  };
}
