/**
 * WorkPlacement: one workload group of a Work written to one Destination's state store
 * (behaviour §6, §7). Pure: what each placement puts in the store by the Destination's
 * `filepath.mode`, the WorkPlacement object that records it, and the plan of one write per
 * state store for a scheduling decision. The activity loads, asks for the plan, writes.
 */
import { stringify } from 'yaml';
import { workloadContent, workloadGroupId, workloadsDigest } from './hashing';
import { LABELS, labelValue, ownerLabels } from './labels';
import {
  destinationBasePath,
  filepathMode,
  joinPath,
  nestedPlacementDirectory,
  noneModeTrackingFile,
  staticDependenciesFilename,
} from './paths';
import type { PlacementTarget } from './placement';
import type {
  Destination,
  FileChanges,
  PromiseSpec,
  StateStore,
  Work,
  WorkloadGroup,
  WorkPlacement,
} from './types';
import { PLATFORM_API_VERSION, SYSTEM_NAMESPACE } from './types';

export interface PlacementFiles {
  changes: FileChanges;
  /** Root-relative paths the placement owns (removed when it is deleted). */
  paths: string[];
}

/**
 * What one placement puts in its Destination's state store: a directory of its own
 * (nestedByMetadata), loose files at the root tracked by `.kratix/<placement>.yaml` (none),
 * or its share of the one aggregated file (aggregatedYAML: written from every placement of
 * the Destination, see `StoreWritePlan.aggregated`).
 */
export function placementFiles(
  destination: Destination,
  store: StateStore,
  work: Work,
  group: WorkloadGroup,
  placementName: string,
  previous: WorkPlacement | undefined,
): PlacementFiles {
  switch (filepathMode(destination)) {
    case 'none': {
      const base = destinationBasePath(destination, store);
      const files = group.workloads.map((w) => ({
        path: joinPath(base, w.filepath),
        content: workloadContent(w),
      }));
      const tracking = noneModeTrackingFile(destination, store, placementName);
      const owned = files.map((f) => f.path);
      const stale = (previous?.spec?.paths ?? []).filter(
        (p) => p !== tracking && !owned.includes(p),
      );
      const record = stringify({ workPlacement: placementName, files: owned });
      return {
        changes: {
          writeFiles: [...files, { path: tracking, content: record }],
          deletePaths: stale,
        },
        paths: [...owned, tracking],
      };
    }
    case 'aggregatedYAML':
      return { changes: {}, paths: [] };
    case 'nestedByMetadata': {
      const dir = nestedPlacementDirectory(destination, store, work.spec!, group.id);
      const files = group.workloads.map((w) => ({ path: w.filepath, content: workloadContent(w) }));
      return { changes: { replaceDirs: [{ dir, files }] }, paths: [dir] };
    }
  }
}

/**
 * The workload groups of a Promise's static `dependencies` Work: one file of every
 * dependency, scheduled by the Promise's selectors; none when it has no dependencies.
 */
export function dependenciesWorkloadGroups(
  promiseName: string,
  spec: PromiseSpec,
): WorkloadGroup[] {
  const dependencies = spec.dependencies ?? [];
  if (dependencies.length === 0) return [];
  const workloads = [
    {
      filepath: staticDependenciesFilename(promiseName),
      content: dependencies.map((d) => stringify(d)).join('---\n'),
    },
  ];
  return [
    {
      id: workloadGroupId('.'),
      directory: '.',
      destinationSelectors: { promise: spec.destinationSelectors ?? [], resource: [] },
      workloads,
      digest: workloadsDigest(workloads),
    },
  ];
}

/** Folds one placement's changes into its state store's. */
export function mergeChanges(into: FileChanges, part: FileChanges): void {
  if (part.replaceDirs?.length) (into.replaceDirs ??= []).push(...part.replaceDirs);
  if (part.writeFiles?.length) (into.writeFiles ??= []).push(...part.writeFiles);
  if (part.deletePaths?.length) (into.deletePaths ??= []).push(...part.deletePaths);
}

/** The record of a placement, labelled so it can be found by Work, Destination, Promise. */
export function buildWorkPlacement(
  work: Work,
  workRef: { name: string; namespace: string },
  target: PlacementTarget,
  written: { paths: string[]; digest: string },
): WorkPlacement {
  const spec = work.spec!;
  const labels = {
    [LABELS.work]: labelValue(workRef.name),
    [LABELS.targetDestinationName]: target.destination,
    ...ownerLabels(spec),
  };
  return {
    apiVersion: PLATFORM_API_VERSION,
    kind: 'WorkPlacement',
    metadata: { name: target.placementName, namespace: SYSTEM_NAMESPACE, labels },
    spec: {
      targetDestinationName: target.destination,
      workName: workRef.name,
      workNamespace: workRef.namespace,
      workloadGroupId: target.groupId,
      promiseName: spec.promiseName,
      resourceName: spec.resourceName,
      digest: written.digest,
      paths: written.paths,
    },
  };
}

/** One write to one state store: every placement of the decision that lives there. */
export interface StoreWritePlan {
  /** `<kind>/<name>` of the state store. */
  store: string;
  /** "Update from: <placement>, …" (Kratix's commit message). */
  message: string;
  changes: FileChanges;
  /** aggregatedYAML Destinations whose one file must be written again from all placements. */
  aggregated: Destination[];
  placements: WorkPlacement[];
}

/** A target that cannot be written, and why (it fails alone; the others are written). */
export interface PlacementProblem {
  placementName: string;
  destination: string;
  message: string;
}

export interface PlacementWriteInput {
  work: Work;
  workRef: { name: string; namespace: string };
  targets: PlacementTarget[];
  destination(name: string): Destination | undefined;
  /** The Destination's state store, or why there is none to write to. */
  stateStore(destination: Destination): { store: StateStore } | { problem: string };
  previous(placementName: string): WorkPlacement | undefined;
}

/** Groups a scheduling decision's targets by state store: one write (one commit) each. */
export function planPlacementWrites(input: PlacementWriteInput): {
  stores: StoreWritePlan[];
  problems: PlacementProblem[];
} {
  const byStore = new Map<string, StoreWritePlan>();
  const problems: PlacementProblem[] = [];
  for (const target of input.targets) {
    const fail = (message: string) =>
      problems.push({
        placementName: target.placementName,
        destination: target.destination,
        message,
      });
    const destination = input.destination(target.destination);
    if (!destination) {
      fail(`Destination "${target.destination}" not found`);
      continue;
    }
    const group = input.work.spec?.workloadGroups.find((g) => g.id === target.groupId);
    if (!group) {
      fail(`workload group ${target.groupId} of Work "${input.workRef.name}" not found`);
      continue;
    }
    const found = input.stateStore(destination);
    if ('problem' in found) {
      fail(found.problem);
      continue;
    }
    const { store } = found;
    const key = `${store.kind}/${store.metadata.name}`;
    const plan: StoreWritePlan = byStore.get(key) ?? {
      store: key,
      message: '',
      changes: {},
      aggregated: [],
      placements: [],
    };
    const files = placementFiles(
      destination,
      store,
      input.work,
      group,
      target.placementName,
      input.previous(target.placementName),
    );
    mergeChanges(plan.changes, files.changes);
    if (
      filepathMode(destination) === 'aggregatedYAML' &&
      !plan.aggregated.some((d) => d.metadata.name === destination.metadata.name)
    ) {
      plan.aggregated.push(destination);
    }
    plan.placements.push(
      buildWorkPlacement(input.work, input.workRef, target, {
        paths: files.paths,
        digest: group.digest,
      }),
    );
    byStore.set(key, plan);
  }
  for (const plan of byStore.values()) {
    plan.message = `Update from: ${plan.placements.map((p) => p.metadata.name).join(', ')}`;
  }
  return { stores: [...byStore.values()], problems };
}
