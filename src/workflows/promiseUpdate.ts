import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PromiseSnapshot } from '../activities';
import type { KratixPromise } from '../model/types';
import { acts, pipelineActs } from './activity-proxies';
import { failureMessage } from './failures';
import { resourceReconcile } from './resourceReconcile';
import { scheduleWork } from './scheduling';
import { SEARCH_ATTRIBUTES } from './search-attributes';

export interface PromiseUpdateOptions {
  /** Resource re-runs in flight at once. */
  concurrency?: number;
  /** Resources fetched per page from the platform store. */
  pageSize?: number;
  /** Children started per run before continue-as-new keeps history bounded. */
  childrenPerRun?: number;
}

export type UpdatePhase =
  'revision' | 'promise-pipelines' | 'dependencies' | 'resources' | 'done' | 'failed' | 'aborted';

export interface UpdateProgress {
  promiseName: string;
  version: string;
  revisionName: string;
  phase: UpdatePhase;
  total: number;
  done: number;
  failed: number;
  running: number;
  paused: boolean;
  /** First failures (capped), for `promiseflow status` and `temporal workflow query`. */
  failures: { resource: string; message: string }[];
  details: string;
}

export interface PromiseUpdateInput {
  /** The Promise itself (what `promiseflow apply` and `temporal workflow start --input-file` pass). */
  promise?: KratixPromise;
  /** Or the name of a Promise already in the platform store. */
  promiseName?: string;
  options?: PromiseUpdateOptions;
  /** Carried across continue-as-new; not for callers. */
  continuation?: { snapshot: PromiseSnapshot; cursor?: string; progress: UpdateProgress };
}

export const progressQuery = defineQuery<UpdateProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const abortSignal = defineSignal<[string?]>('abort');

export const DEFAULT_UPDATE_OPTIONS: Required<PromiseUpdateOptions> = {
  concurrency: 10,
  pageSize: 100,
  childrenPerRun: 500,
};

const MAX_RECORDED_FAILURES = 20;

/** Accepts `{promise: {...}}`, `{promiseName}` or a bare Promise object (temporal CLI input). */
function normaliseInput(raw: PromiseUpdateInput | KratixPromise): PromiseUpdateInput {
  if ((raw as KratixPromise).kind === 'Promise') return { promise: raw as KratixPromise };
  return raw as PromiseUpdateInput;
}

/**
 * A Promise update (SPEC §3): snapshot the PromiseRevision → run the Promise configure
 * workflow → write static dependencies → re-run every bound resource as a child
 * workflow, a bounded number at a time, paging through the platform store and
 * continuing-as-new so history stays bounded for fleets of any size.
 */
export async function promiseUpdate(
  rawInput: PromiseUpdateInput | KratixPromise,
): Promise<UpdateProgress> {
  const input = normaliseInput(rawInput);
  const options = { ...DEFAULT_UPDATE_OPTIONS, ...(input.options ?? {}) };
  let paused = false;
  let abortReason: string | undefined;
  const progress: UpdateProgress = input.continuation?.progress ?? {
    promiseName: input.promise?.metadata.name ?? input.promiseName ?? '',
    version: '',
    revisionName: '',
    phase: 'revision',
    total: 0,
    done: 0,
    failed: 0,
    running: 0,
    paused: false,
    failures: [],
    details: 'starting',
  };
  setHandler(progressQuery, () => ({ ...progress, paused }));
  setHandler(pauseSignal, () => {
    paused = true;
    report('paused');
  });
  setHandler(resumeSignal, () => {
    paused = false;
    report('resumed');
  });
  setHandler(abortSignal, (reason?: string) => {
    abortReason = reason || 'aborted by operator';
    paused = false;
  });

  function report(details: string, publish = false): void {
    progress.details = details;
    progress.paused = paused;
    setCurrentDetails(
      `**${progress.promiseName} ${progress.version}** — ${progress.phase}: ${details}\n\n` +
        `resources: ${progress.done} done, ${progress.failed} failed, ${progress.running} running, ${progress.total} total`,
    );
    if (publish) {
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.promiseName, value: progress.promiseName },
        { key: SEARCH_ATTRIBUTES.promiseVersion, value: progress.version },
        { key: SEARCH_ATTRIBUTES.updatePhase, value: progress.phase },
        { key: SEARCH_ATTRIBUTES.resourcesTotal, value: progress.total },
        { key: SEARCH_ATTRIBUTES.resourcesDone, value: progress.done },
        { key: SEARCH_ATTRIBUTES.resourcesFailed, value: progress.failed },
      ]);
    }
  }

  let snapshot: PromiseSnapshot;
  if (input.continuation) {
    snapshot = input.continuation.snapshot;
  } else {
    report('snapshotting PromiseRevision');
    try {
      snapshot = await acts.snapshotPromiseRevision({
        promise: input.promise,
        promiseName: input.promiseName,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      progress.phase = 'failed';
      report(failureMessage(err), true);
      throw ApplicationFailure.nonRetryable(
        `Promise update refused: ${failureMessage(err)}`,
        'PromiseUpdateFailed',
      );
    }
    progress.promiseName = snapshot.promiseName;
    progress.version = snapshot.version;
    progress.revisionName = snapshot.revisionName;
    const ref = { promiseName: snapshot.promiseName, revisionName: snapshot.revisionName };

    // Promise configure workflow first: resources only start after it succeeded.
    progress.phase = 'promise-pipelines';
    report(
      `running ${snapshot.promiseConfigurePipelines.length} Promise configure pipeline(s)`,
      true,
    );
    try {
      for (let i = 0; i < snapshot.promiseConfigurePipelines.length; i++) {
        report(`running Promise configure pipeline ${snapshot.promiseConfigurePipelines[i]}`);
        const result = await pipelineActs.runPromisePipeline({ ...ref, pipelineIndex: i });
        await scheduleWork(result.work);
      }
      progress.phase = 'dependencies';
      report('writing static dependencies');
      await scheduleWork(await acts.buildDependenciesWork(ref));
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = `Promise configure workflow failed: ${failureMessage(err)}`;
      progress.phase = 'failed';
      report(message, true);
      await acts.recordPromiseOutcome({ ...ref, succeeded: false, message });
      throw ApplicationFailure.nonRetryable(message, 'PromiseConfigureFailed');
    }
    // Requests created during a long fleet update wait for the Promise to be available;
    // say so as soon as its own workflow is done. (Patched: older histories lack this step.)
    if (patched('promise-available-before-fanout')) {
      await acts.recordPromiseOutcome({
        ...ref,
        succeeded: true,
        message: `Promise configure workflow completed at ${snapshot.version}; re-running resources`,
      });
    }
    progress.phase = 'resources';
    progress.total = snapshot.resourceKind
      ? (
          await acts.countResourcesForUpdate({
            promiseName: snapshot.promiseName,
            version: snapshot.version,
          })
        ).count
      : 0;
    report(`re-running ${progress.total} resource(s)`, true);
  }

  // Fan out: one resourceReconcile child per bound resource, `concurrency` at a time.
  const running = new Set<Promise<void>>();
  let cursor = input.continuation?.cursor;
  let startedThisRun = 0;
  const parentId = workflowInfo().workflowId;

  async function reconcileOne(r: { namespace: string; name: string }): Promise<void> {
    progress.running++;
    try {
      await executeChild(resourceReconcile, {
        workflowId: `${parentId}/${r.namespace}/${r.name}`,
        args: [
          {
            promiseName: snapshot.promiseName,
            namespace: r.namespace,
            name: r.name,
            trigger: 'promise-update',
          },
        ],
      });
      progress.done++;
    } catch (err) {
      if (isCancellation(err)) throw err;
      progress.failed++;
      if (progress.failures.length < MAX_RECORDED_FAILURES) {
        progress.failures.push({
          resource: `${r.namespace}/${r.name}`,
          message: failureMessage(err),
        });
      }
    } finally {
      progress.running--;
      report(`re-running resources`);
    }
  }

  // A Promise without an API (dependencies only) has no resources to re-run.
  for (;;) {
    if (abortReason || !snapshot.resourceKind) break;
    const page = await acts.listResourcesForUpdate({
      promiseName: snapshot.promiseName,
      version: snapshot.version,
      cursor,
      pageSize: options.pageSize,
    });
    for (const r of page.resources) {
      await condition(() => !paused || abortReason !== undefined);
      if (abortReason) break;
      while (running.size >= options.concurrency) await Promise.race(running);
      const p: Promise<void> = reconcileOne(r).finally(() => running.delete(p));
      running.add(p);
      startedThisRun++;
    }
    cursor = page.cursor;
    report(`re-running resources`, true);
    if (!cursor || abortReason) break;
    if (startedThisRun >= options.childrenPerRun) {
      // Keep history bounded: drain, then carry the cursor into a fresh run.
      await Promise.all(running);
      await condition(allHandlersFinished);
      await continueAsNew<typeof promiseUpdate>({
        promiseName: snapshot.promiseName,
        options,
        continuation: { snapshot, cursor, progress: { ...progress, running: 0 } },
      });
    }
  }
  await Promise.all(running);

  const ref = { promiseName: snapshot.promiseName, revisionName: snapshot.revisionName };
  const counts = { total: progress.total, done: progress.done, failed: progress.failed };
  if (abortReason) {
    progress.phase = 'aborted';
    report(`aborted: ${abortReason}`, true);
    await acts.recordPromiseOutcome({
      ...ref,
      succeeded: false,
      message: `Update to ${snapshot.version} aborted: ${abortReason}`,
      resources: counts,
    });
  } else {
    progress.phase = 'done';
    const message = `Update to ${snapshot.version} complete: ${progress.done}/${progress.total} resource(s) reconciled, ${progress.failed} failed`;
    report(message, true);
    await acts.recordPromiseOutcome({ ...ref, succeeded: true, message, resources: counts });
  }
  await condition(allHandlersFinished);
  return { ...progress, paused: false };
}
