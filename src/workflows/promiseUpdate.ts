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
  makeContinueAsNewFunc,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { PromiseSnapshot } from '../activities';
import type { ResolvedRollout, RolloutSpec } from '../model/rollout';
import { defaultRollout, describeRollout } from '../model/rollout';
import type { KratixPromise } from '../model/types';
import { acts, pipelineActs } from './activity-proxies';
import { failureMessage } from './failures';
import type { ResourceId, RolloutCursor } from './fleet-rollout';
import { batchLabel, newRolloutCursor, rollBack, rollOutFleet } from './fleet-rollout';
import { TRIGGER_MEMO, workflowIds } from './ids';
import type { ApproveInput, SupersedeInput } from './messages';
import {
  abortSignal,
  approveUpdate,
  pauseSignal,
  progressQuery,
  resumeSignal,
  supersedeSignal,
} from './messages';
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
  /** A RolloutPolicy to use instead of the one selected for the Promise. */
  rolloutPolicy?: string;
  /** This update's own rollout settings, over the policy's (RolloutPolicy spec fields). */
  rollout?: RolloutSpec;
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
  | 'aborted'
  /** The rollout crossed its failure budget or a progress deadline and stopped. */
  | 'halted'
  | 'rolling-back'
  /** Halted, then every moved resource was returned to the previous revision. */
  | 'rolled-back';

/** Where the rollout stands (batches, gates, budget), for `status`, queries and Temporal Web. */
export interface RolloutProgress {
  /** The policy in one line (describeRollout). */
  policy: string;
  /** 1-based batch running or next. */
  batch: number;
  state:
    | 'running'
    | 'awaiting-approval'
    | 'soaking'
    | 'halted'
    | 'rolling-back'
    | 'rolled-back'
    | 'complete';
  haltReason?: string;
  approvals: { batch: number; by?: string }[];
  rolledBack?: number;
  rollbackFailed?: number;
}

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
  rollout?: RolloutProgress;
}

export interface PromiseUpdateInput {
  /** The Promise itself (what `promiseflow apply` and `temporal workflow start --input-file` pass). */
  promise?: KratixPromise;
  /** Or the name of a Promise already in the platform store. */
  promiseName?: string;
  options?: PromiseUpdateOptions;
  /** The spec's trigger key (model/triggers): a supersede for the same key is ignored. */
  key?: string;
  /** Carried across continue-as-new; not for callers. */
  continuation?: {
    snapshot: PromiseSnapshot;
    cursor?: string;
    progress: UpdateProgress;
    rollout?: RolloutCursor;
  };
}

export { abortSignal, pauseSignal, progressQuery, resumeSignal };

export const DEFAULT_UPDATE_OPTIONS: Required<
  Omit<PromiseUpdateOptions, 'rolloutPolicy' | 'rollout'>
> = {
  concurrency: 10,
  pageSize: 100,
  childrenPerRun: 500,
};

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

/**
 * Rollout policies (batches, budget, gates, rollback) and supersession by signal; before
 * it, every resource ran `concurrency` at a time to the end.
 */
const ROLLOUT_PATCH = 'rollout-policy-v1';

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
  const policyOn = patched(ROLLOUT_PATCH);
  let paused = live && (input.continuation?.progress.paused ?? false);
  let abortReason: string | undefined;
  let supersededBy: SupersedeInput | undefined;
  let ro: RolloutCursor | undefined = input.continuation?.rollout;
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
  setHandler(supersedeSignal, (next: SupersedeInput) => {
    // A second apply of the spec this run applies is no newer spec.
    if (!policyOn || next.key === input.key) return;
    supersededBy = next;
    paused = false;
    progress.stopReason = `superseded by a newer spec (${next.key})`;
    report(`${progress.stopReason}: handing over after the re-runs in flight`, true);
  });
  setHandler(
    approveUpdate,
    (approval: ApproveInput | undefined) => {
      const batch = ro!.batch;
      ro!.approvedUpTo = batch;
      progress.rollout?.approvals.push({
        batch: batch + 1,
        ...(approval?.by ? { by: approval.by } : {}),
      });
      const message = `${batchLabel(ro!, batch)} approved${approval?.by ? ` by ${approval.by}` : ''}`;
      report(message, true);
      return { batch: batch + 1, message };
    },
    {
      // Refused synchronously (nothing enters history): only the batch waiting can be approved.
      validator: (approval: ApproveInput | undefined) => {
        if (!ro || progress.rollout?.state !== 'awaiting-approval') {
          throw new Error(
            `no batch of ${progress.promiseName} is waiting for approval (update phase ${progress.phase}${progress.rollout ? `, rollout ${progress.rollout.state}` : ''})`,
          );
        }
        if (approval?.batch !== undefined && approval.batch !== ro.batch + 1) {
          throw new Error(
            `batch ${approval.batch} is not waiting for approval; ${batchLabel(ro)} is`,
          );
        }
      },
    },
  );
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

  /** Continues as new with the newer spec: history shows where one update handed over. */
  async function handOver(next: SupersedeInput): Promise<never> {
    await stopPublishing();
    await condition(allHandlersFinished);
    return makeContinueAsNewFunc<typeof promiseUpdate>({
      memo: { [TRIGGER_MEMO]: next.key },
    })({
      promiseName: progress.promiseName,
      options: next.options ?? input.options,
      key: next.key,
    });
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

  // The rollout: settled once (a bad policy fails the update before any resource moves).
  if (!ro) {
    let resolved: ResolvedRollout = defaultRollout(options.concurrency);
    if (policyOn) {
      try {
        resolved = await acts.resolveUpdateRollout({
          promiseName: snapshot.promiseName,
          concurrency: options.concurrency,
          rolloutPolicy: input.options?.rolloutPolicy,
          rollout: input.options?.rollout,
        });
      } catch (err) {
        if (isCancellation(err)) throw err;
        const message = `rollout policy refused: ${failureMessage(err)}`;
        progress.phase = 'failed';
        report(message, true);
        await acts.recordRollout({ promiseName: snapshot.promiseName, state: 'Halted', message });
        throw ApplicationFailure.nonRetryable(message, 'PromiseUpdateFailed');
      }
    }
    ro = newRolloutCursor(resolved);
    if (policyOn) {
      progress.rollout = {
        policy: describeRollout(resolved),
        batch: 1,
        state: 'running',
        approvals: [],
      };
      await acts.recordRollout({
        promiseName: snapshot.promiseName,
        state: 'Progressing',
        message: `Rolling out ${snapshot.version}: ${progress.rollout.policy}`,
      });
    }
  }
  const rollout = ro;

  const parentId = workflowInfo().workflowId;
  // Counts change from here on. Not awaited: stopped before the run ends or continues as new.
  if (live) publishing = publisher.run();
  // Children are marked with their update, so a list can hide or group them.
  const childMarks: SearchAttributePair[] = [
    { key: SEARCH_ATTRIBUTES.promiseName, value: snapshot.promiseName },
    { key: SEARCH_ATTRIBUTES.parentUpdate, value: parentId },
  ];

  async function runChild(r: ResourceId, trigger: 'promise-update' | 'rollback'): Promise<void> {
    const what =
      trigger === 'rollback'
        ? `rolled back to ${snapshot.previous?.version} from ${snapshot.version}`
        : `re-run for ${snapshot.promiseName} ${snapshot.version}`;
    const child = {
      args: [
        {
          promiseName: snapshot.promiseName,
          namespace: r.namespace,
          name: r.name,
          trigger,
          // The version this update (or its rollback) moves the resource to.
          ...(policyOn
            ? { version: trigger === 'rollback' ? snapshot.previous!.version : snapshot.version }
            : {}),
        },
      ] as [ResourceReconcileInput],
      ...(live
        ? { typedSearchAttributes: childMarks, staticSummary: `${r.namespace}/${r.name}: ${what}` }
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
  }

  const fleet = {
    snapshot,
    progress,
    ro: rollout,
    policyOn,
    pageSize: options.pageSize,
    childrenPerRun: options.childrenPerRun,
    listPerPage: !live,
    stopReason: () => abortReason ?? (supersededBy ? progress.stopReason : undefined),
    paused: () => paused,
    report,
    runChild,
    async continueAsNew(cursor: string | undefined): Promise<never> {
      await stopPublishing();
      await condition(allHandlersFinished);
      return continueAsNew<typeof promiseUpdate>({
        promiseName: snapshot.promiseName,
        options,
        ...(input.key ? { key: input.key } : {}),
        continuation: {
          snapshot,
          cursor,
          progress: { ...progress, running: 0 },
          ...(policyOn ? { rollout } : {}),
        },
      });
    },
  };
  const end = await rollOutFleet(fleet, input.continuation?.cursor);
  await stopPublishing();

  const ref = { promiseName: snapshot.promiseName, revisionName: snapshot.revisionName };
  const counts = { total: progress.total, done: progress.done, failed: progress.failed };
  if (supersededBy) {
    // The in-flight re-runs finished: the newer spec continues under this workflow id.
    await handOver(supersededBy);
  }
  if (end === 'halted') {
    const reason = progress.rollout!.haltReason!;
    if (rollout.resolved.onFailure === 'rollback' && snapshot.previous) {
      const previous = snapshot.previous;
      progress.phase = 'rolling-back';
      progress.rollout!.state = 'rolling-back';
      const moved = rollout.moved?.length ?? 0;
      report(`rolling back ${moved} resource(s) to ${previous.version}: ${reason}`, true);
      await acts.recordRollout({
        promiseName: snapshot.promiseName,
        state: 'RollingBack',
        message: `Rolling back ${moved} resource(s) to ${previous.version}: ${reason}`,
        heldVersion: previous.version,
      });
      const back = await rollBack(fleet);
      // The Promise's own configure workflow and dependencies return to the previous revision too.
      const prevRef = { promiseName: snapshot.promiseName, revisionName: previous.revisionName };
      for (let i = 0; i < previous.promiseConfigurePipelines.length; i++) {
        const result = await pipelineActs.runPromisePipeline({ ...prevRef, pipelineIndex: i });
        await scheduleWork(result.work);
      }
      await scheduleWork(await acts.buildDependenciesWork(prevRef));
      progress.phase = 'rolled-back';
      progress.rollout!.state = 'rolled-back';
      const message =
        `Update to ${snapshot.version} rolled back to ${previous.version}: ${reason}; ` +
        `${back.done} of ${moved} moved resource(s) returned${back.failed ? `, ${back.failed} failed to` : ''}`;
      report(message, true);
      await acts.recordRollout({
        promiseName: snapshot.promiseName,
        state: 'RolledBack',
        message,
        heldVersion: previous.version,
      });
      await acts.recordPromiseOutcome({
        ...ref,
        succeeded: true,
        message,
        resources: counts,
        rollout: 'RolledBack',
      });
    } else {
      progress.phase = 'halted';
      const message =
        `Update to ${snapshot.version} halted at ${batchLabel(rollout)}: ${reason}` +
        (rollout.resolved.onFailure === 'rollback'
          ? ' (nothing to roll back to: no previous revision)'
          : '');
      report(message, true);
      await acts.recordRollout({
        promiseName: snapshot.promiseName,
        state: 'Halted',
        message,
        batch: rollout.batch + 1,
      });
      await acts.recordPromiseOutcome({
        ...ref,
        succeeded: true,
        message,
        resources: counts,
        rollout: 'Halted',
      });
    }
  } else if (abortReason) {
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
    if (progress.rollout) {
      progress.rollout.state = 'complete';
      await acts.recordRollout({ promiseName: snapshot.promiseName, state: 'Complete', message });
    }
    await acts.recordPromiseOutcome({ ...ref, succeeded: true, message, resources: counts });
  }
  // A newer spec stored while the outcome was written still runs, under this id.
  if (supersededBy) await handOver(supersededBy);
  await condition(allHandlersFinished);
  return { ...progress, paused: false };
}
