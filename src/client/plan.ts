/**
 * `promiseflow plan`: loads what the update would read, runs the proposed pipelines in a
 * throw-away directory, reads the state stores through private clones, and hands it all to
 * model/update-plan. Writes nothing: no platform object, no state store, no workflow.
 */
import { promises as fs } from 'node:fs';
import { mapInOrder } from './map-in-order';
import * as os from 'node:os';
import * as path from 'node:path';
import { specHash } from '../model/hashing';
import { InvalidInputError } from '../model/errors';
import { LABELS } from '../model/labels';
import { isBeingDeleted } from '../model/objects';
import { STATIC_DEPENDENCIES_PIPELINE } from '../model/paths';
import type { DestinationCandidate } from '../model/placement';
import { resourceBindingName } from '../model/revisions';
import type { RolloutPolicy, RolloutSpec } from '../model/rollout';
import { ROLLOUT_API_VERSION } from '../model/rollout';
import type {
  Destination,
  KratixObject,
  KratixPromise,
  ResourceBinding,
  StateStore,
  Work,
  WorkPlacement,
} from '../model/types';
import { DEFAULT_NAMESPACE, SYSTEM_NAMESPACE } from '../model/types';
import type { FileDiff, FleetResource, UpdatePlan, WorkPlan } from '../model/update-plan';
import {
  aggregatedContent,
  assemblePlan,
  destinationDiffs,
  existingPlacements,
  pathsToList,
  planDestinationWrites,
  planWorkPlacements,
  resourceKey,
  resultingFiles,
  splitFleet,
} from '../model/update-plan';
import { crdOf, promiseVersion, validateResourceRequest } from '../model/validate';
import { resolveRollout, selectRolloutPolicy } from '../model/validate-rollout';
import { dependenciesWorkloadGroups } from '../model/work-placement';
import { stateStoreOf } from '../activities/scheduling';
import type { PipelineRunArgs } from '../activities/works';
import { buildWork, resourceWorkTarget, runPipelineToGroups, workName } from '../activities/works';
import { pipelineNamespace } from '../pipelines/env';
import { secretValuesOf } from '../pipelines/failure-output';
import { PipelineFailedError } from '../pipelines/runner';
import type { PipelineRunner } from '../pipelines/runner';
import type { PlatformStore } from '../platform/store';
import { listAll } from '../platform/store';
import { StateStoreWriters } from '../statestores/registry';
import type { StateStoreWriter } from '../statestores/writer';

export interface PlanPorts {
  store: PlatformStore;
  pipelineRunner: PipelineRunner;
  /** Resource re-runs in flight, as the update would be started with. */
  concurrency: number;
}

export interface PlanOptions {
  /** `--rollout-policy NAME`: this RolloutPolicy instead of the one selected for the Promise. */
  rolloutPolicy?: string;
  /** The update's own rollout settings (`--rollout JSON` and the rollout flags, parsed by the CLI). */
  rollout?: RolloutSpec;
  /** For error messages. */
  file?: string;
}

/** Pipelines run at once while planning (two cores; the update's own bound is larger). */
const PIPELINES_IN_FLIGHT = 2;

export async function planPromiseUpdate(
  ports: PlanPorts,
  proposed: KratixPromise,
  options: PlanOptions = {},
): Promise<UpdatePlan> {
  const { store } = ports;
  const name = proposed.metadata.name;
  const current = await store.get<KratixPromise>({ kind: 'Promise', name });
  const version = promiseVersion(proposed);
  const rollout = resolveRollout({
    concurrency: ports.concurrency,
    policy: await choosePolicy(store, proposed, options.rolloutPolicy),
    override: options.rollout,
  });

  // Scratch space for pipeline runs and state-store clones, removed on every way out.
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'promiseflow-plan-'));
  const stateStores = new StateStoreWriters(path.join(tmp, 'statestores'));
  try {
    const run = { store, pipelineRunner: ports.pipelineRunner, workDir: path.join(tmp, 'runs') };
    const fleet = current ? await loadFleet(store, current, proposed) : [];
    const { rerun, pinned } = splitFleet(fleet, version);

    const works: Work[] = [];
    const promiseWorks: { work?: Work; plan: Omit<WorkPlan, keyof PlacementsOnly> }[] = [];
    for (const pipeline of proposed.spec?.workflows?.promise?.configure ?? []) {
      const ref = { name: workName([name, pipeline.metadata.name]), namespace: SYSTEM_NAMESPACE };
      const plan = { work: ref.name, pipeline: pipeline.metadata.name };
      try {
        const { groups } = await runPipelineToGroups(run, {
          ...pipelineArgs(proposed, pipeline, proposed, 'promise'),
          runName: ref.name,
        });
        const work = buildWork(ref, {
          source: 'promise',
          promiseName: name,
          pipelineName: pipeline.metadata.name,
          replicas: 'all',
          workloadGroups: groups,
        });
        works.push(work);
        promiseWorks.push({ work, plan });
      } catch (err) {
        promiseWorks.push({ plan: { ...plan, error: messageOf(err) } });
      }
    }
    const depsRef = {
      name: workName([name, STATIC_DEPENDENCIES_PIPELINE, 'dependencies']),
      namespace: SYSTEM_NAMESPACE,
    };
    const depsWork = buildWork(depsRef, {
      source: 'dependencies',
      promiseName: name,
      pipelineName: STATIC_DEPENDENCIES_PIPELINE,
      replicas: 'all',
      workloadGroups: dependenciesWorkloadGroups(name, proposed.spec ?? {}),
    });
    works.push(depsWork);
    promiseWorks.push({
      work: depsWork,
      plan: { work: depsRef.name, pipeline: STATIC_DEPENDENCIES_PIPELINE },
    });

    const resourceRuns = await mapInOrder(rerun, PIPELINES_IN_FLIGHT, (r) =>
      runResourcePipelines(run, store, proposed, current, r),
    );
    for (const r of resourceRuns) works.push(...r.works.flatMap((w) => (w.work ? [w.work] : [])));

    // Scheduling, as the scheduling workflow decides it for each Work.
    const destinations = (await listAll<Destination>(store, 'Destination')).filter(
      (d) => !isBeingDeleted(d),
    );
    const candidates: DestinationCandidate[] = destinations.map((d) => ({
      name: d.metadata.name,
      labels: d.metadata.labels ?? {},
      strictMatchLabels: d.spec?.strictMatchLabels === true,
    }));
    const allPlacements = await listAll<WorkPlacement>(store, 'WorkPlacement');
    const placementsOf = (w: Work) =>
      allPlacements.filter(
        (p) =>
          p.spec?.workName === w.metadata.name && p.spec.workNamespace === w.metadata.namespace,
      );
    const scheduled = new Map<Work, ReturnType<typeof planWorkPlacements>>();
    for (const w of works) {
      scheduled.set(w, planWorkPlacements(w, candidates, existingPlacements(placementsOf(w))));
    }
    const withPlacements = (work: Work | undefined, plan: Omit<WorkPlan, keyof PlacementsOnly>) =>
      ({
        ...plan,
        ...(work ? scheduled.get(work)! : { changes: [], unscheduled: [], targets: [] }),
      }) as WorkPlan;

    const files = await diffFiles({
      store,
      stateStores,
      destinations,
      allPlacements,
      works: works.map((w) => ({ work: w, targets: scheduled.get(w)!.targets })),
    });

    return assemblePlan({
      promise: name,
      ...(current ? { currentVersion: promiseVersion(current) } : {}),
      proposedVersion: version,
      changed:
        !current ||
        specHash(current.spec) !== specHash(proposed.spec) ||
        current.metadata.labels?.[LABELS.promiseVersion] !==
          proposed.metadata.labels?.[LABELS.promiseVersion],
      rollout,
      rerun,
      pinned,
      promiseWorks: promiseWorks.map((p) => withPlacements(p.work, p.plan)),
      resourceWorks: new Map(
        resourceRuns.map((r) => [
          r.key,
          {
            works: r.works.map((w) => withPlacements(w.work, w.plan)),
            ...(r.error ? { error: r.error } : {}),
          },
        ]),
      ),
      files,
    });
  } finally {
    await stateStores.close().catch(() => undefined);
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

type PlacementsOnly = Pick<WorkPlan, 'changes' | 'unscheduled' | 'targets'>;

/** The named policy, or the one selected for the Promise; none stored means the defaults. */
async function choosePolicy(
  store: PlatformStore,
  promise: KratixPromise,
  name: string | undefined,
): Promise<RolloutPolicy | undefined> {
  const policies = (await listAll<RolloutPolicy>(store, 'RolloutPolicy')).filter(
    (p) => p.apiVersion === ROLLOUT_API_VERSION,
  );
  if (name === undefined) return selectRolloutPolicy(policies, promise);
  const found = policies.find((p) => p.metadata.name === name);
  if (!found) {
    throw new InvalidInputError({
      field: '--rollout-policy',
      expected: policies.length
        ? `the name of a RolloutPolicy (one of ${policies.map((p) => p.metadata.name).join(', ')})`
        : 'the name of a RolloutPolicy (none are stored)',
      got: name,
    });
  }
  return found;
}

/** The Promise's requests in the order the update pages them, each with its binding. */
async function loadFleet(
  store: PlatformStore,
  current: KratixPromise,
  proposed: KratixPromise,
): Promise<FleetResource[]> {
  const kind = crdOf(current)?.kind ?? crdOf(proposed)?.kind;
  if (!kind) return [];
  const name = proposed.metadata.name;
  const fleet: FleetResource[] = [];
  for (const r of await listAll(store, kind)) {
    const namespace = r.metadata.namespace ?? DEFAULT_NAMESPACE;
    const binding = await store.get<ResourceBinding>({
      kind: 'ResourceBinding',
      name: resourceBindingName(name, r.metadata.name),
      namespace,
    });
    fleet.push({
      namespace,
      name: r.metadata.name,
      labels: r.metadata.labels ?? {},
      ...(binding ? { binding } : {}),
    });
  }
  return fleet;
}

function pipelineArgs(
  proposed: KratixPromise,
  pipeline: NonNullable<PipelineRunArgs['pipeline']>,
  object: KratixObject,
  type: 'promise' | 'resource',
): Omit<PipelineRunArgs, 'runName'> {
  return {
    pipeline,
    object,
    type,
    action: 'configure',
    promiseName: proposed.metadata.name,
    promiseSelectors: proposed.spec?.destinationSelectors ?? [],
  };
}

interface ResourceRun {
  key: string;
  works: { work?: Work; plan: Omit<WorkPlan, keyof PlacementsOnly> }[];
  error?: string;
}

/**
 * One request's configure pipelines with the proposed spec, in order; the first failure
 * ends them, as it ends the resource's reconcile.
 */
async function runResourcePipelines(
  run: { store: PlatformStore; pipelineRunner: PipelineRunner; workDir: string },
  store: PlatformStore,
  proposed: KratixPromise,
  current: KratixPromise | undefined,
  r: FleetResource,
): Promise<ResourceRun> {
  const key = resourceKey(r);
  const kind = (current && crdOf(current)?.kind) ?? crdOf(proposed)?.kind ?? '';
  const request = await store.get({ kind, name: r.name, namespace: r.namespace });
  if (!request) return { key, works: [], error: 'deleted meanwhile' };
  try {
    validateResourceRequest(request, proposed.spec ?? {}, `${kind} "${r.name}"`);
  } catch (err) {
    return { key, works: [], error: messageOf(err) };
  }
  const works: ResourceRun['works'] = [];
  const ref = { promiseName: proposed.metadata.name, namespace: r.namespace, name: r.name };
  for (const pipeline of proposed.spec?.workflows?.resource?.configure ?? []) {
    const target = resourceWorkTarget(ref, pipeline.metadata.name);
    const plan = { work: target.work.name, pipeline: pipeline.metadata.name };
    try {
      const { groups } = await runPipelineToGroups(run, {
        ...pipelineArgs(proposed, pipeline, request, 'resource'),
        runName: target.work.name,
      });
      works.push({
        work: buildWork(target.work, { ...target.workSpec, workloadGroups: groups }),
        plan,
      });
    } catch (err) {
      let shown = err;
      if (err instanceof PipelineFailedError) {
        // As the activity does: the Secrets' values never reach the output.
        const namespace = pipelineNamespace({ spec: proposed.spec }, 'resource', request);
        const secrets = await secretValuesOf(pipeline, namespace, (k) => store.get(k)).catch(
          () => [],
        );
        shown = err.withSecretsMasked(secrets);
      }
      works.push({ plan: { ...plan, error: messageOf(shown) } });
      return { key, works, error: `pipeline ${pipeline.metadata.name} would fail` };
    }
  }
  return { key, works };
}

/** Reads the files the writes would touch and diffs them, Destination by Destination. */
async function diffFiles(input: {
  store: PlatformStore;
  stateStores: StateStoreWriters;
  destinations: Destination[];
  allPlacements: WorkPlacement[];
  works: { work: Work; targets: ReturnType<typeof planWorkPlacements>['targets'] }[];
}): Promise<FileDiff[]> {
  const { store } = input;
  const destinationByName = new Map(input.destinations.map((d) => [d.metadata.name, d]));
  const writers = new Map<string, { store: StateStore; writer: StateStoreWriter }>();
  for (const d of input.destinations) {
    try {
      const found = await stateStoreOf({ store }, d);
      writers.set(d.metadata.name, {
        store: found.store,
        writer: input.stateStores.forStore(found.store, found.secret),
      });
    } catch {
      // A Destination without a usable state store: its writes are reported as problems.
    }
  }
  const previous = new Map(input.allPlacements.map((p) => [p.metadata.name, p]));
  const { writes } = planDestinationWrites({
    works: input.works,
    destination: (n) => destinationByName.get(n),
    stateStore: (d) => writers.get(d.metadata.name)?.store,
    previous: (n) => previous.get(n),
  });
  const proposedWork = new Map(
    input.works.map((w) => [`${w.work.metadata.namespace}/${w.work.metadata.name}`, w.work]),
  );
  const diffs: FileDiff[] = [];
  for (const w of writes) {
    const { writer } = writers.get(w.destination)!;
    const listed = new Map<string, string[]>();
    for (const p of pathsToList(w.changes)) {
      let files = await writer.listFiles(p);
      // A deleted path may be a file (S3 lists only below a prefix).
      if (files.length === 0 && (await writer.readFileBytes(p))) files = [p];
      listed.set(p, files);
    }
    let aggregated: { path: string; content: string } | undefined;
    if (w.aggregatedPath) {
      aggregated = {
        path: w.aggregatedPath,
        content: aggregatedContent(
          await aggregatedParts(store, input, w.destination, proposedWork),
        ),
      };
    }
    const resulting = resultingFiles(w.changes, (d) => listed.get(d) ?? [], aggregated);
    const current = new Map<string, Uint8Array | undefined>();
    for (const p of resulting.keys()) current.set(p, await writer.readFileBytes(p));
    diffs.push(...destinationDiffs(w.destination, resulting, (p) => current.get(p)));
  }
  return diffs;
}

/** Every placement the aggregated file of `destination` would be built from after the update. */
async function aggregatedParts(
  store: PlatformStore,
  input: Parameters<typeof diffFiles>[0],
  destination: string,
  proposedWork: Map<string, Work>,
): Promise<{ placementName: string; groupId: string; work?: Work }[]> {
  const parts = new Map<string, { placementName: string; groupId: string; workKey: string }>();
  for (const p of input.allPlacements) {
    if (p.spec?.targetDestinationName !== destination) continue;
    parts.set(p.metadata.name, {
      placementName: p.metadata.name,
      groupId: p.spec.workloadGroupId,
      workKey: `${p.spec.workNamespace}/${p.spec.workName}`,
    });
  }
  for (const { work, targets } of input.works) {
    for (const t of targets) {
      if (t.destination !== destination) continue;
      parts.set(t.placementName, {
        placementName: t.placementName,
        groupId: t.groupId,
        workKey: `${work.metadata.namespace}/${work.metadata.name}`,
      });
    }
  }
  const out: { placementName: string; groupId: string; work?: Work }[] = [];
  for (const p of parts.values()) {
    const [namespace, name] = p.workKey.split('/') as [string, string];
    const work =
      proposedWork.get(p.workKey) ?? (await store.get<Work>({ kind: 'Work', name, namespace }));
    out.push({ placementName: p.placementName, groupId: p.groupId, ...(work ? { work } : {}) });
  }
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
