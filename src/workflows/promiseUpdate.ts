/**
 * The Promise update workflow. ~370 lines: its phases (revision, Promise pipelines,
 * dependencies, fan-out, outcome) and the operator's controls (pause, resume, abort) read
 * as one story; progress publishing and child starts live beside it (update-progress.ts,
 * one-run.ts).
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { PromiseSnapshot } from '../activities';
import type { KratixPromise } from '../model/types';
import { acts, pipelineActs } from './activity-proxies';
import { failureMessage } from './failures';
import { workflowIds } from './ids';
import { abortSignal, pauseSignal, progressQuery, resumeSignal } from './messages';
import { executeChildAlone } from './one-run';
import { resourceReconcile } from './resourceReconcile';
import type { ResourceReconcileInput } from './resourceReconcile';
import { scheduleWork } from './scheduling';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { currentDetails, ProgressPublisher } from './update-progress';

export interface PromiseUpdateOptions {
  /** Resource re-runs in flight at once. */
  concurrency?: number;
  /** Resources fetched per page from the platform store. */
  pageSize?: number;
  /** Children started per run before continue-as-new keeps history bounded. */
  childrenPerRun?: number;
}

export type UpdatePhase =
  | 'revision'
  | 'promise-pipelines'
  | 'dependencies'
  | 'resources'
  | 'done'
  /** Every resource was re-run, and some of them failed: not a clean success. */
  | 'completed-with-failures'
  | 'failed'
  | 'aborted';

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
  /** Why the update stops starting resources (an abort's reason). */
  stopReason?: string;
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

export { abortSignal, pauseSignal, progressQuery, resumeSignal };

export const DEFAULT_UPDATE_OPTIONS: Required<PromiseUpdateOptions> = {
  concurrency: 10,
  pageSize: 100,
  childrenPerRun: 500,
};

const MAX_RECORDED_FAILURES = 20;

/**
 * Progress published as it happens (timer-driven search attributes, children marked with
 * their update, paused state carried across continue-as-new) instead of one upsert per page.
 * Histories recorded before it replay the old command sequence.
 */
const LIVE_PROGRESS_PATCH = 'live-progress-v1';

/**
 * Children run under the resource's own id (workflowIds.resourceReconcile), the one a
 * direct apply or the bridge uses, so one resource is never reconciled twice at once.
 * Histories recorded before it started children under `promise-update/<p>/<ns>/<name>`.
 */
const ONE_ID_PATCH = 'one-id-per-resource';

/** Accepts `{promise: {...}}`, `{promiseName}` or a bare Promise object (temporal CLI input). */
function normaliseInput(raw: PromiseUpdateInput | KratixPromise): PromiseUpdateInput {
  if ((raw as KratixPromise).kind === 'Promise') return { promise: raw as KratixPromise };
  return raw as PromiseUpdateInput;
}

/**
 * A Promise update (behaviour §3): snapshot the PromiseRevision → run the Promise configure
 * workflow → write static dependencies → re-run every bound resource as a child
 * workflow, a bounded number at a time, paging through the platform store and
 * continuing-as-new so history stays bounded for fleets of any size.
 */
export async function promiseUpdate(
  rawInput: PromiseUpdateInput | KratixPromise,
): Promise<UpdateProgress> {
  const input = normaliseInput(rawInput);
  const options = { ...DEFAULT_UPDATE_OPTIONS, ...(input.options ?? {}) };
  const live = patched(LIVE_PROGRESS_PATCH);
  const oneId = patched(ONE_ID_PATCH);
  let paused = live && (input.continuation?.progress.paused ?? false);
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
  const publisher = new ProgressPublisher(progress);
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
    progress.stopReason = abortReason;
    report(`aborting: ${abortReason}`);
  });
  let publishing: Promise<void> | undefined;

  /** `boundary`: a phase change (or a page, on the old path), listed at once. */
  function report(details: string, boundary = false): void {
    progress.details = details;
    progress.paused = paused;
    setCurrentDetails(currentDetails(progress));
    if (!boundary) return;
    if (live) publisher.publishNow();
    else {
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

  async function stopPublishing(): Promise<void> {
    publisher.stop();
    await publishing;
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
  // Counts change from here on. Not awaited: stopped before the run ends or continues as new.
  if (live) publishing = publisher.run();
  // Children are marked with their update, so a list can hide or group them.
  const childMarks: SearchAttributePair[] = [
    { key: SEARCH_ATTRIBUTES.promiseName, value: snapshot.promiseName },
    { key: SEARCH_ATTRIBUTES.parentUpdate, value: parentId },
  ];

  /** What the fan-out is doing, for the details line. */
  function fanOutActivity(): string {
    if (abortReason) return `aborting: ${abortReason}`;
    return paused ? 'paused' : 're-running resources';
  }

  async function reconcileOne(r: { namespace: string; name: string }): Promise<void> {
    progress.running++;
    try {
      const child = {
        args: [
          {
            promiseName: snapshot.promiseName,
            namespace: r.namespace,
            name: r.name,
            trigger: 'promise-update',
          },
        ] as [ResourceReconcileInput],
        ...(live
          ? {
              typedSearchAttributes: childMarks,
              staticSummary: `${r.namespace}/${r.name}: re-run for ${snapshot.promiseName} ${snapshot.version}`,
            }
          : {}),
      };
      if (oneId) {
        const workflowId = workflowIds.resourceReconcile(snapshot.promiseName, r.namespace, r.name);
        await executeChildAlone(resourceReconcile, { ...child, workflowId }, () =>
          report(`waiting for ${workflowId} (started elsewhere) to finish`),
        );
      } else {
        await executeChild(resourceReconcile, {
          ...child,
          workflowId: `${parentId}/${r.namespace}/${r.name}`,
        });
      }
      progress.done++;
    } catch (err) {
      if (isCancellation(err)) throw err;
      progress.failed++;
      if (progress.failures.length < MAX_RECORDED_FAILURES) {
        // The child's message starts with the resource it names; the entry names it already.
        const message = failureMessage(err);
        const label = `${snapshot.promiseName} ${r.namespace}/${r.name}: `;
        progress.failures.push({
          resource: `${r.namespace}/${r.name}`,
          message: message.startsWith(label) ? message.slice(label.length) : message,
        });
      }
    } finally {
      progress.running--;
      report(fanOutActivity());
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
    // The old path listed progress once per page; the publisher does it as it happens.
    report(fanOutActivity(), !live);
    if (!cursor || abortReason) break;
    if (startedThisRun >= options.childrenPerRun) {
      // Keep history bounded: drain, then carry the cursor into a fresh run.
      await Promise.all(running);
      await stopPublishing();
      await condition(allHandlersFinished);
      await continueAsNew<typeof promiseUpdate>({
        promiseName: snapshot.promiseName,
        options,
        continuation: { snapshot, cursor, progress: { ...progress, running: 0 } },
      });
    }
  }
  await Promise.all(running);
  await stopPublishing();

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
    // The fleet was finished either way; failures make it visibly not a clean success
    // (the Promise gets a condition saying so from recordPromiseOutcome's counts).
    progress.phase = progress.failed > 0 ? 'completed-with-failures' : 'done';
    const message =
      progress.failed > 0
        ? `Update to ${snapshot.version} completed with failures: ${progress.failed} of ${progress.total} resource(s) failed, ${progress.done} reconciled`
        : `Update to ${snapshot.version} complete: ${progress.done}/${progress.total} resource(s) reconciled, ${progress.failed} failed`;
    report(message, true);
    await acts.recordPromiseOutcome({ ...ref, succeeded: true, message, resources: counts });
  }
  await condition(allHandlersFinished);
  return { ...progress, paused: false };
}
