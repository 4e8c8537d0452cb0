import { ApplicationFailure } from '@temporalio/activity';
import { LABELS } from '../model/labels';
import {
  isLatestRevision,
  LATEST_REVISION_DELETE_REFUSED,
  resourceBindingName,
  revisionName,
} from '../model/revisions';
import type {
  KratixPromise,
  PromiseRevision,
  ResourceBinding,
  Work,
  WorkPlacement,
} from '../model/types';
import { resourceApiName } from '../model/resource-api';
import { crdOf, promiseVersion } from '../model/validate';
import { listAll } from '../platform/store';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded, notFound } from './deps';
import type { ResourcePage } from './bound-resources';
import { pageOfResources } from './bound-resources';
import type { ResourceRef } from './resource';
import { resourceWorkTarget, runPipelineToWork, workName } from './works';

export { LATEST_REVISION_DELETE_REFUSED };

async function promiseOf(deps: ActivityDeps, name: string): Promise<KratixPromise | undefined> {
  return deps.store.get<KratixPromise>({ kind: 'Promise', name });
}

export interface DeletePlan {
  exists: boolean;
  revisionName: string;
  deletePipelines: string[];
  placements: string[];
}

export function createDeletionActivities(deps: ActivityDeps) {
  return {
    /** What deleting a resource request involves: its delete pipelines and every placement of its Works. */
    async planResourceDelete(ref: ResourceRef): Promise<DeletePlan> {
      return guarded(async () => {
        const promise = await promiseOf(deps, ref.promiseName);
        const kind = promise ? crdOf(promise)?.kind : undefined;
        const request = kind
          ? await deps.store.get({ kind, name: ref.name, namespace: ref.namespace })
          : undefined;
        const binding = await deps.store.get<ResourceBinding>({
          kind: 'ResourceBinding',
          name: resourceBindingName(ref.promiseName, ref.name),
          namespace: ref.namespace,
        });
        // Delete pipelines of the revision the request last ran at (else the latest).
        const version =
          (binding?.status?.lastAppliedVersion as string | undefined) ??
          (promise ? promiseVersion(promise) : '');
        const revName = revisionName(ref.promiseName, version || 'not-set');
        const revision = await deps.store.get<PromiseRevision>({
          kind: 'PromiseRevision',
          name: revName,
        });
        const pipelines = revision?.spec?.promiseSpec.workflows?.resource?.delete ?? [];
        const placements = (
          await listAll<WorkPlacement>(deps.store, 'WorkPlacement', {
            labelSelector: {
              [LABELS.promiseName]: ref.promiseName,
              [LABELS.resourceName]: ref.name,
            },
          })
        ).filter((p) => {
          const work = p.spec?.workNamespace;
          return work === undefined || work === ref.namespace;
        });
        return {
          exists: request !== undefined,
          revisionName: revName,
          deletePipelines: request ? pipelines.map((p) => p.metadata.name) : [],
          placements: placements.map((p) => p.metadata.name),
        };
      });
    },

    async runResourceDeletePipeline(
      input: ResourceRef & { revisionName: string; pipelineIndex: number },
    ): Promise<void> {
      return guarded(async () => {
        const revision = await deps.store.get<PromiseRevision>({
          kind: 'PromiseRevision',
          name: input.revisionName,
        });
        const pipeline =
          revision?.spec?.promiseSpec.workflows?.resource?.delete?.[input.pipelineIndex];
        const promise = await promiseOf(deps, input.promiseName);
        const kind = promise ? crdOf(promise)?.kind : undefined;
        const request = kind
          ? await deps.store.get({ kind, name: input.name, namespace: input.namespace })
          : undefined;
        if (!pipeline || !request) return;
        await runPipelineToWork(deps, {
          pipeline,
          object: request,
          type: 'resource',
          action: 'delete',
          promiseName: input.promiseName,
          promiseSelectors: [],
          ...resourceWorkTarget(input, pipeline.metadata.name),
        });
      });
    },

    /** Removes the request's Works, its ResourceBinding and the request itself (placements are gone by now). */
    async deleteResourceObjects(ref: ResourceRef): Promise<void> {
      return guarded(async () => {
        const works = await listAll<Work>(deps.store, 'Work', {
          labelSelector: {
            [LABELS.promiseName]: ref.promiseName,
            [LABELS.resourceName]: ref.name,
          },
        });
        for (const w of works.filter((w) => w.metadata.namespace === ref.namespace)) {
          await deps.store.delete({
            kind: 'Work',
            name: w.metadata.name,
            namespace: ref.namespace,
          });
        }
        await deps.store.delete({
          kind: 'ResourceBinding',
          name: resourceBindingName(ref.promiseName, ref.name),
          namespace: ref.namespace,
        });
        const promise = await promiseOf(deps, ref.promiseName);
        const kind = promise ? crdOf(promise)?.kind : undefined;
        if (kind) await deps.store.delete({ kind, name: ref.name, namespace: ref.namespace });
        activityLogger(deps, {
          promise: ref.promiseName,
          resource: `${ref.namespace}/${ref.name}`,
        }).info('resource request deleted');
      });
    },

    /**
     * A page of a Promise's requests; with `version`, only those bound to exactly that version
     * (what deleting a non-latest PromiseRevision removes).
     */
    async listResourcesOfPromise(input: {
      promiseName: string;
      version?: string;
      cursor?: string;
      pageSize: number;
    }): Promise<ResourcePage> {
      return guarded(async () => {
        const promise = await promiseOf(deps, input.promiseName);
        const kind = promise ? crdOf(promise)?.kind : undefined;
        if (!kind) return { resources: [] };
        return pageOfResources(deps, input.promiseName, kind, input, (b) =>
          input.version === undefined ? true : b?.spec?.version === input.version,
        );
      });
    },

    async planPromiseDelete(input: { promiseName: string }): Promise<DeletePlan> {
      return guarded(async () => {
        const promise = await promiseOf(deps, input.promiseName);
        const revName = promise ? revisionName(input.promiseName, promiseVersion(promise)) : '';
        const placements = (
          await listAll<WorkPlacement>(deps.store, 'WorkPlacement', {
            labelSelector: {
              [LABELS.promiseName]: input.promiseName,
            },
          })
        ).filter((p) => !p.spec?.resourceName);
        return {
          exists: promise !== undefined,
          revisionName: revName,
          deletePipelines: (promise?.spec?.workflows?.promise?.delete ?? []).map(
            (p) => p.metadata.name,
          ),
          placements: placements.map((p) => p.metadata.name),
        };
      });
    },

    async runPromiseDeletePipeline(input: {
      promiseName: string;
      pipelineIndex: number;
    }): Promise<void> {
      return guarded(async () => {
        const promise = await promiseOf(deps, input.promiseName);
        const pipeline = promise?.spec?.workflows?.promise?.delete?.[input.pipelineIndex];
        if (!promise || !pipeline) return;
        await runPipelineToWork(deps, {
          pipeline,
          object: promise,
          type: 'promise',
          action: 'delete',
          promiseName: input.promiseName,
          promiseSelectors: [],
          work: { name: workName([input.promiseName, pipeline.metadata.name]), namespace: '' },
          workSpec: {
            source: 'promise',
            promiseName: input.promiseName,
            pipelineName: pipeline.metadata.name,
            replicas: 'all',
          },
        });
      });
    },

    /** Removes the Promise's own Works, every PromiseRevision of it, and the Promise. */
    async deletePromiseObjects(input: { promiseName: string }): Promise<void> {
      return guarded(async () => {
        for (const w of await listAll<Work>(deps.store, 'Work', {
          labelSelector: {
            [LABELS.promiseName]: input.promiseName,
          },
        })) {
          await deps.store.delete({
            kind: 'Work',
            name: w.metadata.name,
            namespace: w.metadata.namespace,
          });
        }
        for (const r of await listAll<PromiseRevision>(deps.store, 'PromiseRevision', {
          labelSelector: {
            [LABELS.promiseName]: input.promiseName,
          },
        })) {
          const key = { kind: 'PromiseRevision', name: r.metadata.name };
          // A Promise being deleted has no latest revision; the platform refuses to delete
          // one that still says it is latest (on a cluster, an admission policy does).
          if (isLatestRevision(r))
            await deps.store.patchLabels(key, { [LABELS.latestRevision]: null });
          await deps.store.delete(key);
        }
        const promise = await promiseOf(deps, input.promiseName);
        const api = promise ? resourceApiName(promise) : undefined;
        if (api) await deps.store.removeResourceApi(api);
        await deps.store.delete({ kind: 'Promise', name: input.promiseName });
        activityLogger(deps, { promise: input.promiseName }).info('Promise deleted');
      });
    },

    /** The latest revision cannot be deleted (delete the Promise instead). */
    async checkRevisionDeletable(input: {
      name: string;
    }): Promise<{ promiseName: string; version: string }> {
      return guarded(async () => {
        const revision = await deps.store.get<PromiseRevision>({
          kind: 'PromiseRevision',
          name: input.name,
        });
        if (!revision?.spec) throw notFound(`PromiseRevision "${input.name}"`);
        if (isLatestRevision(revision)) {
          throw ApplicationFailure.nonRetryable(
            `${LATEST_REVISION_DELETE_REFUSED} "${input.name}"; delete the Promise instead`,
            'LatestRevision',
          );
        }
        return { promiseName: revision.spec.promiseRef.name, version: revision.spec.version };
      });
    },

    async deleteRevisionObject(input: { name: string }): Promise<void> {
      return guarded(async () => {
        await deps.store.delete({ kind: 'PromiseRevision', name: input.name });
        activityLogger(deps, { revision: input.name }).info('PromiseRevision deleted');
      });
    },
  };
}
