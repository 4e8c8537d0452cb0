import type { SchedulingContext } from './scheduling';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LABELS, ownerLabels } from '../model/labels';
import type {
  DestinationSelector,
  KratixObject,
  Pipeline,
  Work,
  WorkloadGroup,
  WorkSpec,
} from '../model/types';
import { PLATFORM_API_VERSION } from '../model/types';
import { toDnsLabel } from '../model/validate';
import { resolvePipelineRefs } from '../pipelines/env';
import type { ActivityDeps } from './deps';
import { activityLogger } from './deps';
import { buildWorkloadGroups } from './pipeline-output';

/** A reference to a stored Work: what workflows carry instead of pipeline output. */
export interface WorkRef {
  name: string;
  namespace: string;
}

export interface PipelineWorkResult {
  work: WorkRef;
  status?: Record<string, unknown>;
  groups: number;
  files: number;
  /** What scheduling the Work needs, read once the Work was written (when asked for). */
  scheduling?: SchedulingContext;
}

export function workName(parts: (string | undefined)[]): string {
  return toDnsLabel(parts.filter((p) => p).join('-'));
}

/** Where a resource pipeline's output goes: Work `<promise>-<resource>-<pipeline>` in its namespace. */
export function resourceWorkTarget(
  ref: { promiseName: string; namespace: string; name: string },
  pipelineName: string,
): { work: WorkRef; workSpec: Omit<WorkSpec, 'workloadGroups'> } {
  return {
    work: { name: workName([ref.promiseName, ref.name, pipelineName]), namespace: ref.namespace },
    workSpec: {
      source: 'resource',
      promiseName: ref.promiseName,
      pipelineName,
      resourceName: ref.name,
      resourceNamespace: ref.namespace,
      replicas: 'one',
    },
  };
}

export function buildWork(ref: WorkRef, spec: WorkSpec): Work {
  const labels = {
    ...ownerLabels(spec),
    [LABELS.workType]: spec.source,
    [LABELS.pipelineName]: spec.pipelineName,
  };
  return {
    apiVersion: PLATFORM_API_VERSION,
    kind: 'Work',
    metadata: { name: ref.name, namespace: ref.namespace, labels },
    spec,
  };
}

/** What running one Pipeline needs; shared by the activities and `plan` (which stores nothing). */
export interface PipelineRunArgs {
  pipeline: Pipeline;
  object: KratixObject;
  type: 'promise' | 'resource';
  action: 'configure' | 'delete';
  promiseName: string;
  promiseSelectors: DestinationSelector[];
  /** Names the run's scratch directory. */
  runName: string;
}

/**
 * Runs one Pipeline in a scratch directory under `workDir` and returns its output as
 * workload groups (and its status.yaml); the scratch directory is removed afterwards.
 */
export async function runPipelineToGroups(
  deps: Pick<ActivityDeps, 'store' | 'pipelineRunner' | 'workDir'>,
  args: PipelineRunArgs,
): Promise<{ groups: WorkloadGroup[]; status?: Record<string, unknown> }> {
  const runDir = path.join(deps.workDir, `${args.runName}-${randomUUID().slice(0, 8)}`);
  await fs.mkdir(runDir, { recursive: true });
  try {
    // Secrets and ConfigMaps the pipeline refers to (env valueFrom/envFrom, volumes).
    const resolved = await resolvePipelineRefs(args, (key) => deps.store.get(key));
    const result = await deps.pipelineRunner.run({
      pipeline: args.pipeline,
      object: args.object,
      action: args.action,
      type: args.type,
      promiseName: args.promiseName,
      workDir: runDir,
      ...(resolved ? { resolved } : {}),
    });
    const groups = await buildWorkloadGroups(
      result.outputDir,
      args.promiseSelectors,
      result.destinationSelectors,
      `${args.pipeline.metadata.name}: /kratix/metadata/destination-selectors.yaml`,
    );
    return { groups, ...(result.status ? { status: result.status } : {}) };
  } finally {
    await fs.rm(runDir, { recursive: true, force: true });
  }
}

/**
 * Runs one Pipeline over an object and stores its output as a Work. The output lives in
 * the platform store; only the Work's name goes back into workflow history.
 */
export async function runPipelineToWork(
  deps: ActivityDeps,
  args: Omit<PipelineRunArgs, 'runName'> & {
    work: WorkRef;
    workSpec: Omit<WorkSpec, 'workloadGroups'>;
  },
): Promise<PipelineWorkResult> {
  const log = activityLogger(deps, {
    promise: args.promiseName,
    pipeline: args.pipeline.metadata.name,
    object: `${args.object.kind}/${args.object.metadata.name}`,
  });
  log.info('pipeline started');
  const { groups, status } = await runPipelineToGroups(deps, { ...args, runName: args.work.name });
  if (args.action === 'configure') {
    await deps.store.apply(buildWork(args.work, { ...args.workSpec, workloadGroups: groups }));
  }
  const files = groups.reduce((n, g) => n + g.workloads.length, 0);
  log.info({ files, groups: groups.length }, 'pipeline completed');
  return { work: args.work, status, groups: groups.length, files };
}
