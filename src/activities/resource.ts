/**
 * The activities of a resource request's reconcile: binding, pipelines, outcome, and the
 * paging of an update's fleet. ~410 lines: each activity is load → model rule → write, and
 * they share the request's and binding's status helpers.
 */
import { readSchedulingContext } from './scheduling';
import { CONDITION, REASON } from '../model/conditions';
import { LATEST_VERSION } from '../model/labels';
import {
  bindingFollows,
  buildResourceBinding,
  desiredVersion,
  isFloating,
  resourceBindingName,
  revisionName,
} from '../model/revisions';
import type {
  Condition,
  KratixObject,
  KratixPromise,
  PromiseRevision,
  ResourceBinding,
} from '../model/types';
import { crdOf, promiseVersion, validateResourceRequest } from '../model/validate';
import { heldVersionOf } from '../model/rollout';
import { matchesMatchLabels } from '../model/selectors';
import { InvalidInputError } from '../model/errors';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded, notFound } from './deps';
import { conditionsOf, recordEvent, writeStatus } from './status';
import type { ResourcePage } from './bound-resources';
import { pageOfResources } from './bound-resources';
import { pipelineNamespace } from '../pipelines/env';
import { secretValuesOf } from '../pipelines/failure-output';
import { PipelineFailedError } from '../pipelines/runner';
import type { PipelineWorkResult } from './works';
import { resourceWorkTarget, runPipelineToWork } from './works';

export interface ResourceRef {
  promiseName: string;
  namespace: string;
  name: string;
}

export interface ResourcePlan {
  /** The request was deleted meanwhile: nothing to do. */
  gone: boolean;
  /** Why this run leaves the request alone (a rollback meeting a pinned request). */
  skipped?: string;
  /**
   * Why the request cannot run yet (its Promise is not available, or the update that
   * snapshots its revision is still running): the workflow waits and asks again.
   */
  waitingFor?: string;
  version: string;
  revisionName: string;
  pipelines: string[];
  generation: number;
}

async function resourceKindOf(deps: ActivityDeps, promiseName: string): Promise<string> {
  const promise = await deps.store.get<KratixPromise>({ kind: 'Promise', name: promiseName });
  if (!promise) throw notFound(`Promise "${promiseName}"`);
  const crd = crdOf(promise);
  if (!crd) throw notFound(`API (spec.api) of Promise "${promiseName}"`);
  return crd.kind;
}

async function updateResourceStatus(
  deps: ActivityDeps,
  kind: string,
  ref: ResourceRef,
  conditions: Condition[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  await writeStatus(deps, { kind, name: ref.name, namespace: ref.namespace }, conditions, extra);
}

async function updateBindingStatus(
  deps: ActivityDeps,
  ref: ResourceRef,
  conditions: Condition[],
  mutate: (status: Record<string, unknown>, binding: KratixObject) => Record<string, unknown> = (
    s,
  ) => s,
): Promise<void> {
  const key = {
    kind: 'ResourceBinding',
    name: resourceBindingName(ref.promiseName, ref.name),
    namespace: ref.namespace,
  };
  await writeStatus(deps, key, conditions, mutate);
}

function promiseAvailable(promise: KratixPromise | undefined): boolean {
  return (
    conditionsOf(promise).find((c) => c.type === CONDITION.configureWorkflowCompleted)?.status ===
    'True'
  );
}

export function createResourceActivities(deps: ActivityDeps) {
  return {
    /**
     * Ensures the request's ResourceBinding, resolves the revision it is bound to and
     * validates the request against that revision's API.
     */
    async prepareResourceReconcile(
      input: ResourceRef & { trigger?: string; updateVersion?: string },
    ): Promise<ResourcePlan> {
      const ref: ResourceRef = {
        promiseName: input.promiseName,
        namespace: input.namespace,
        name: input.name,
      };
      return guarded(async () => {
        const kind = await resourceKindOf(deps, ref.promiseName);
        const request = await deps.store.get({ kind, name: ref.name, namespace: ref.namespace });
        if (!request)
          return { gone: true, version: '', revisionName: '', pipelines: [], generation: 0 };
        const bindingKey = {
          kind: 'ResourceBinding',
          name: resourceBindingName(ref.promiseName, ref.name),
          namespace: ref.namespace,
        };
        let binding = await deps.store.get<ResourceBinding>(bindingKey);
        if (!binding) {
          binding = (
            await deps.store.apply(
              buildResourceBinding(ref.promiseName, { name: ref.name, namespace: ref.namespace }),
            )
          ).object;
        }
        const promise = await deps.store.get<KratixPromise>({
          kind: 'Promise',
          name: ref.promiseName,
        });
        // A rolled-back rollout holds requests that follow the latest at the version it returned to.
        // An update's (or rollback's) own re-run follows its version, whatever is stored since.
        const latestVersion =
          input.updateVersion ??
          (promise ? (heldVersionOf(promise) ?? promiseVersion(promise)) : LATEST_VERSION);
        if (input.trigger === 'rollback' && !isFloating(binding)) {
          // A resource pinned to a version is never moved by a rollback.
          return {
            gone: false,
            skipped: `pinned to ${binding.spec?.version}`,
            version: binding.spec?.version ?? '',
            revisionName: '',
            pipelines: [],
            generation: 0,
          };
        }
        const version = desiredVersion(binding, latestVersion);
        const revName = revisionName(ref.promiseName, version);
        const revision = await deps.store.get<PromiseRevision>({
          kind: 'PromiseRevision',
          name: revName,
        });
        // Said on the request too, so `kubectl get`/`promiseflow describe` show why it waits.
        const waitingFor = async (what: string): Promise<ResourcePlan> => {
          await updateResourceStatus(deps, kind, ref, [
            {
              type: CONDITION.configureWorkflowCompleted,
              status: 'False',
              reason: REASON.waitingForPromise,
              message: `Waiting for ${what}`,
            },
          ]);
          return {
            gone: false,
            waitingFor: what,
            version,
            revisionName: revName,
            pipelines: [],
            generation: 0,
          };
        };
        if (!revision?.spec && isFloating(binding)) {
          // The Promise update that snapshots this revision is still running: wait for it.
          return await waitingFor(
            `PromiseRevision "${revName}" of Promise "${ref.promiseName}" (its update is still running)`,
          );
        }
        if (!revision?.spec) {
          throw new InvalidInputError({
            object: `ResourceBinding "${bindingKey.name}"`,
            field: 'spec.version',
            expected: `a version of Promise "${ref.promiseName}" with a PromiseRevision`,
            got: version,
          });
        }
        // Resources start only after the Promise's configure workflow succeeded (behaviour §3);
        // the Promise update's own re-runs come after that point by construction.
        if (
          input.trigger !== 'promise-update' &&
          input.trigger !== 'rollback' &&
          !promiseAvailable(promise)
        ) {
          return await waitingFor(
            `Promise "${ref.promiseName}" to be available (its configure workflow has not completed)`,
          );
        }
        validateResourceRequest(request, revision.spec.promiseSpec, `${kind} "${ref.name}"`);
        const upgrading = binding.status?.lastAppliedVersion !== version;
        if (upgrading) {
          await updateBindingStatus(deps, ref, [
            {
              type: CONDITION.upgradeSucceeded,
              status: 'False',
              reason: REASON.upgradeInProgress,
              message: `Upgrading to ${version}`,
            },
          ]);
        }
        await updateResourceStatus(deps, kind, ref, [
          {
            type: CONDITION.configureWorkflowCompleted,
            status: 'False',
            reason: REASON.pipelinesInProgress,
            message: 'Pipelines are still in progress',
          },
        ]);
        return {
          gone: false,
          version,
          revisionName: revName,
          pipelines: (revision.spec.promiseSpec.workflows?.resource?.configure ?? []).map(
            (p) => p.metadata.name,
          ),
          generation: request.metadata.generation ?? 1,
        };
      });
    },

    async runResourcePipeline(
      input: ResourceRef & {
        revisionName: string;
        pipelineIndex: number;
        /** Also return the Work's scheduling context: one activity fewer per resource. */
        withScheduling?: boolean;
      },
    ): Promise<PipelineWorkResult> {
      return guarded(async () => {
        const revision = await deps.store.get<PromiseRevision>({
          kind: 'PromiseRevision',
          name: input.revisionName,
        });
        if (!revision?.spec) throw notFound(`PromiseRevision "${input.revisionName}"`);
        const kind = await resourceKindOf(deps, input.promiseName);
        const request = await deps.store.get({
          kind,
          name: input.name,
          namespace: input.namespace,
        });
        if (!request) throw notFound(`${kind} "${input.namespace}/${input.name}"`);
        const pipeline =
          revision.spec.promiseSpec.workflows?.resource?.configure?.[input.pipelineIndex];
        if (!pipeline) throw notFound(`resource configure pipeline #${input.pipelineIndex}`);
        const result = await runPipelineToWork(deps, {
          pipeline,
          object: request,
          type: 'resource',
          action: 'configure',
          promiseName: input.promiseName,
          promiseSelectors: revision.spec.promiseSpec.destinationSelectors ?? [],
          ...resourceWorkTarget(input, pipeline.metadata.name),
        }).catch(async (err: unknown) => {
          // The failure message carries the container's last output lines: mask the
          // values of the Secrets this pipeline was given before it leaves the worker.
          if (!(err instanceof PipelineFailedError)) throw err;
          const namespace = pipelineNamespace(
            { spec: revision.spec!.promiseSpec },
            'resource',
            request,
          );
          const secrets = await secretValuesOf(pipeline, namespace, (key) =>
            deps.store.get(key),
          ).catch(() => []);
          throw err.withSecretsMasked(secrets);
        });
        // status.yaml from the pipeline is merged into the request's status.
        if (result.status) await updateResourceStatus(deps, kind, input, [], result.status);
        if (!input.withScheduling) return result;
        const scheduling = await readSchedulingContext(deps, result.work);
        return { ...result, ...(scheduling ? { scheduling } : {}) };
      });
    },

    async completeResourceReconcile(
      input: ResourceRef & {
        version: string;
        revisionName: string;
        generation: number;
        /** `rollback`: the binding says it was returned to this version. */
        trigger?: string;
      },
    ): Promise<void> {
      return guarded(async () => {
        const kind = await resourceKindOf(deps, input.promiseName);
        await updateResourceStatus(
          deps,
          kind,
          input,
          [
            {
              type: CONDITION.configureWorkflowCompleted,
              status: 'True',
              reason: REASON.pipelinesExecutedSuccessfully,
              message: 'Pipelines completed',
            },
            {
              type: CONDITION.reconciled,
              status: 'True',
              reason: REASON.reconciled,
              message: 'Reconciled',
            },
          ],
          { observedGeneration: input.generation, promiseVersion: input.version },
        );
        await updateBindingStatus(
          deps,
          input,
          [
            {
              type: CONDITION.upgradeSucceeded,
              status: 'True',
              reason: input.trigger === 'rollback' ? REASON.rolledBack : REASON.upgradeComplete,
              message:
                input.trigger === 'rollback'
                  ? `Rolled back to ${input.version}`
                  : `Running ${input.version}`,
            },
          ],
          (status, binding) => {
            const next: Record<string, unknown> = {
              ...status,
              ...(input.trigger === 'rollback' && status.lastAppliedVersion !== input.version
                ? { rolledBackFrom: status.lastAppliedVersion }
                : {}),
              lastAppliedVersion: input.version,
              // The bridge compares this with the binding's generation (a pinned version).
              observedGeneration: binding.metadata.generation ?? 1,
            };
            delete next.failedVersion;
            return next;
          },
        );
        await recordEvent(
          deps,
          { kind, name: input.name, namespace: input.namespace },
          { type: 'Normal', reason: 'Reconciled', message: `Reconciled at ${input.version}` },
        );
        activityLogger(deps, {
          promise: input.promiseName,
          resource: `${input.namespace}/${input.name}`,
        }).info({ version: input.version }, 'resource reconciled');
      });
    },

    /** A failed run keeps lastAppliedVersion, records failedVersion and UpgradeFailed. */
    async failResourceReconcile(
      input: ResourceRef & { version: string; message: string },
    ): Promise<void> {
      return guarded(async () => {
        const kind = await resourceKindOf(deps, input.promiseName).catch(() => undefined);
        if (kind) {
          await updateResourceStatus(deps, kind, input, [
            {
              type: CONDITION.configureWorkflowCompleted,
              status: 'False',
              reason: REASON.configureWorkflowFailed,
              message: input.message,
            },
            {
              type: CONDITION.reconciled,
              status: 'False',
              reason: REASON.reconcileFailed,
              message: input.message,
            },
          ]);
        }
        if (input.version) {
          await updateBindingStatus(
            deps,
            input,
            [
              {
                type: CONDITION.upgradeSucceeded,
                status: 'False',
                reason: REASON.upgradeFailed,
                message: input.message,
              },
            ],
            (status) => ({ ...status, failedVersion: input.version }),
          );
        }
        if (kind) {
          await recordEvent(
            deps,
            { kind, name: input.name, namespace: input.namespace },
            { type: 'Warning', reason: 'ReconcileFailed', message: input.message },
          );
        }
        activityLogger(deps, {
          promise: input.promiseName,
          resource: `${input.namespace}/${input.name}`,
        }).error({ version: input.version }, input.message);
      });
    },

    /** How many requests an update to `version` re-runs (for progress totals). */
    async countResourcesForUpdate(input: {
      promiseName: string;
      version: string;
    }): Promise<{ count: number }> {
      return guarded(async () => {
        const kind = await resourceKindOf(deps, input.promiseName);
        let count = 0;
        let cursor: string | undefined;
        do {
          const page = await pageOfResources(
            deps,
            input.promiseName,
            kind,
            { cursor, pageSize: 500 },
            (b) => bindingFollows(b, input.version),
          );
          count += page.resources.length;
          cursor = page.cursor;
        } while (cursor);
        return { count };
      });
    },

    /**
     * One page of the requests an update to `version` re-runs: floating bindings and those
     * pinned to exactly that version (a canary's labels select or leave out some). Pages by
     * the platform store's cursor.
     */
    async listResourcesForUpdate(input: {
      promiseName: string;
      version: string;
      cursor?: string;
      pageSize: number;
      /** Only requests with these labels (a rollout's canary). */
      matchLabels?: Record<string, string>;
      /** Leave out requests with these labels (the canary, once it ran). */
      excludeLabels?: Record<string, string>;
    }): Promise<ResourcePage> {
      return guarded(async () => {
        const kind = await resourceKindOf(deps, input.promiseName);
        const { matchLabels, excludeLabels } = input;
        return pageOfResources(
          deps,
          input.promiseName,
          kind,
          input,
          (b) => bindingFollows(b, input.version),
          (labels) =>
            (!matchLabels || matchesMatchLabels(labels, matchLabels)) &&
            (!excludeLabels || !matchesMatchLabels(labels, excludeLabels)),
        );
      });
    },
  };
}
