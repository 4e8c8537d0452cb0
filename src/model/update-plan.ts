/**
 * `promiseflow plan`: what applying a Promise would do, decided by the same rules the update
 * runs (behaviour §3, §5, §6, §7, §10) and changing nothing. Pure: the caller loads the
 * fleet, runs the pipelines in a sandbox and reads the state stores; this module picks the
 * resources, batches them, schedules each Work, lays out its files and diffs them.
 */
import { createTwoFilesPatch } from 'diff';
import { workloadContent } from './hashing';
import type { DestinationCandidate, ExistingPlacement, PlacementTarget } from './placement';
import { decideSchedule, effectiveMatchLabels } from './placement';
import { aggregateDocuments, aggregatedFilePath, filepathMode } from './paths';
import { bindingFollows, isFloating } from './revisions';
import type { ResolvedRollout } from './rollout';
import { describeRollout, planBatches } from './rollout';
import type {
  Destination,
  FileChanges,
  ResourceBinding,
  StateStore,
  Work,
  WorkPlacement,
} from './types';
import { placementFiles } from './work-placement';

/** A resource request of the Promise, with its binding (none yet: it floats). */
export interface FleetResource {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  binding?: ResourceBinding;
}

export interface PinnedResource {
  namespace: string;
  name: string;
  version: string;
}

/**
 * The requests an update to `version` re-runs (as `listResourcesForUpdate` pages them:
 * floating bindings, and those pinned to exactly that version), and those it leaves alone.
 */
export function splitFleet(
  resources: FleetResource[],
  version: string,
): { rerun: FleetResource[]; pinned: PinnedResource[] } {
  const rerun: FleetResource[] = [];
  const pinned: PinnedResource[] = [];
  for (const r of resources) {
    if (bindingFollows(r.binding, version)) rerun.push(r);
    else pinned.push({ namespace: r.namespace, name: r.name, version: r.binding!.spec!.version });
  }
  return { rerun, pinned };
}

export type PlacementChangeKind = 'added' | 'kept' | 'misplaced';

export interface PlacementChange {
  placement: string;
  destination: string;
  groupId: string;
  change: PlacementChangeKind;
}

export interface UnscheduledGroupPlan {
  groupId: string;
  matchLabels: Record<string, string>;
}

export interface WorkPlacementPlan {
  changes: PlacementChange[];
  /** Groups no Destination matches: they would wait (`no Destinations can be selected…`). */
  unscheduled: UnscheduledGroupPlan[];
  /** What the scheduling activity would write. */
  targets: PlacementTarget[];
}

/** WorkPlacements as the scheduler reads them. */
export function existingPlacements(placements: WorkPlacement[]): ExistingPlacement[] {
  return placements.map((p) => ({
    name: p.metadata.name,
    destination: p.spec?.targetDestinationName ?? '',
    groupId: p.spec?.workloadGroupId ?? '',
    misplaced: p.metadata.labels?.['kratix.io/misplaced'] === 'true',
  }));
}

/**
 * Schedules a proposed Work exactly as the scheduling workflow would (`decideSchedule`) and
 * names each placement's fate: `added` (not placed there now, or placed but misplaced),
 * `kept` (placed there now and still targeted), `misplaced` (placed now, no longer targeted:
 * its files stay and it is labelled misplaced).
 */
export function planWorkPlacements(
  work: Work,
  destinations: DestinationCandidate[],
  existing: ExistingPlacement[],
): WorkPlacementPlan {
  const groups = work.spec?.workloadGroups ?? [];
  const decision = decideSchedule(
    {
      name: work.metadata.name,
      namespace: work.metadata.namespace ?? '',
      replicas: work.spec?.replicas ?? 'one',
      groups: groups.map((g) => ({
        id: g.id,
        directory: g.directory,
        destinationSelectors: g.destinationSelectors,
      })),
    },
    destinations,
    existing,
  );
  const changes: PlacementChange[] = decision.targets.map((t) => {
    const now = existing.find((p) => p.name === t.placementName);
    return {
      placement: t.placementName,
      destination: t.destination,
      groupId: t.groupId,
      change: now && !now.misplaced ? 'kept' : 'added',
    };
  });
  for (const name of decision.misplaced) {
    const p = existing.find((e) => e.name === name)!;
    changes.push({
      placement: name,
      destination: p.destination,
      groupId: p.groupId,
      change: 'misplaced',
    });
  }
  return {
    changes,
    unscheduled: decision.unscheduled.map((u) => ({
      groupId: u.groupId,
      matchLabels: effectiveMatchLabels(u.destinationSelectors),
    })),
    targets: decision.targets,
  };
}

/** One Destination's share of the writes: what the writer would be handed for it. */
export interface DestinationWrites {
  destination: string;
  /** `<kind>/<name>` of its state store. */
  store: string;
  changes: FileChanges;
  /** aggregatedYAML: the one file the writer would write again from every placement. */
  aggregatedPath?: string;
}

/**
 * The file changes of every target of every proposed Work, by Destination, laid out as
 * `writeWorkPlacements` lays them out (`placementFiles`: nestedByMetadata, none,
 * aggregatedYAML). Targets whose Destination or state store is missing are `problems`.
 */
export function planDestinationWrites(input: {
  works: { work: Work; targets: PlacementTarget[] }[];
  destination(name: string): Destination | undefined;
  stateStore(destination: Destination): StateStore | undefined;
  previous(placementName: string): WorkPlacement | undefined;
}): { writes: DestinationWrites[]; problems: { placement: string; message: string }[] } {
  const byDestination = new Map<string, DestinationWrites>();
  const problems: { placement: string; message: string }[] = [];
  for (const { work, targets } of input.works) {
    for (const t of targets) {
      const destination = input.destination(t.destination);
      const store = destination && input.stateStore(destination);
      const group = work.spec?.workloadGroups.find((g) => g.id === t.groupId);
      if (!destination || !store || !group) {
        problems.push({
          placement: t.placementName,
          message: !destination
            ? `Destination "${t.destination}" not found`
            : !store
              ? `no state store for Destination "${t.destination}"`
              : `workload group ${t.groupId} not found`,
        });
        continue;
      }
      const entry: DestinationWrites = byDestination.get(t.destination) ?? {
        destination: t.destination,
        store: `${store.kind}/${store.metadata.name}`,
        changes: {},
      };
      const files = placementFiles(
        destination,
        store,
        work,
        group,
        t.placementName,
        input.previous(t.placementName),
      );
      const c = files.changes;
      if (c.replaceDirs?.length) (entry.changes.replaceDirs ??= []).push(...c.replaceDirs);
      if (c.writeFiles?.length) (entry.changes.writeFiles ??= []).push(...c.writeFiles);
      if (c.deletePaths?.length) (entry.changes.deletePaths ??= []).push(...c.deletePaths);
      if (filepathMode(destination) === 'aggregatedYAML') {
        entry.aggregatedPath = aggregatedFilePath(destination, store);
      }
      byDestination.set(t.destination, entry);
    }
  }
  return {
    writes: [...byDestination.values()].sort((a, b) => a.destination.localeCompare(b.destination)),
    problems,
  };
}

/** Directories whose current files must be listed to know what a write would remove. */
export function pathsToList(changes: FileChanges): string[] {
  return [...(changes.replaceDirs ?? []).map((d) => d.dir), ...(changes.deletePaths ?? [])];
}

/**
 * The files a Destination would end with, against what `listed` (root-relative files now
 * under each directory of `pathsToList`) holds: every path written with its new content,
 * and every path removed (`undefined`): files of a replaced directory not produced any
 * more, and deleted paths (a file, or every file below a directory).
 */
export function resultingFiles(
  changes: FileChanges,
  listed: (dir: string) => string[],
  aggregated?: { path: string; content: string },
): Map<string, string | Uint8Array | undefined> {
  const out = new Map<string, string | Uint8Array | undefined>();
  for (const p of changes.deletePaths ?? []) {
    for (const f of listed(p)) out.set(f, undefined);
  }
  for (const { dir, files } of changes.replaceDirs ?? []) {
    for (const f of listed(dir)) out.set(f, undefined);
    for (const f of files) out.set(dir === '' ? f.path : `${dir}/${f.path}`, f.content);
  }
  for (const f of changes.writeFiles ?? []) out.set(f.path, f.content);
  if (aggregated) out.set(aggregated.path, aggregated.content);
  return out;
}

/**
 * The aggregatedYAML file as the writer would build it after the update: every placement
 * recorded for the Destination (misplaced ones too, as `aggregatedFile` reads them), each
 * with its Work's group (the proposed Work where the update replaces it).
 */
export function aggregatedContent(
  placements: { placementName: string; groupId: string; work?: Work }[],
): string {
  const parts: { placementName: string; contents: string[] }[] = [];
  for (const p of placements) {
    const group = p.work?.spec?.workloadGroups.find((g) => g.id === p.groupId);
    if (!group) continue;
    const contents = group.workloads.map((w) => {
      const c = workloadContent(w);
      return typeof c === 'string' ? c : new TextDecoder().decode(c);
    });
    parts.push({ placementName: p.placementName, contents });
  }
  return aggregateDocuments(parts);
}

export type FileChangeKind = 'added' | 'modified' | 'removed';

export interface FileDiff {
  destination: string;
  path: string;
  change: FileChangeKind;
  /** Unified diff (`/dev/null` for an added or removed file); absent for binary files. */
  patch?: string;
  binary?: boolean;
}

function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function asText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The diff of one file (undefined when its bytes would not change). */
export function fileDiff(
  destination: string,
  path: string,
  before: Uint8Array | undefined,
  after: string | Uint8Array | undefined,
): FileDiff | undefined {
  const next = after === undefined ? undefined : bytesOf(after);
  if (before === undefined && next === undefined) return undefined;
  if (before !== undefined && next !== undefined && sameBytes(before, next)) return undefined;
  const change: FileChangeKind =
    before === undefined ? 'added' : next === undefined ? 'removed' : 'modified';
  const oldText = before === undefined ? '' : asText(before);
  const newText = next === undefined ? '' : asText(next);
  if (oldText === undefined || newText === undefined) {
    return { destination, path, change, binary: true };
  }
  const patch = createTwoFilesPatch(
    before === undefined ? '/dev/null' : `a/${path}`,
    next === undefined ? '/dev/null' : `b/${path}`,
    oldText,
    newText,
    undefined,
    undefined,
    { context: 3 },
  ).replace(/^=+\n/, ''); // the separator line diff adds; a plain unified diff starts at ---
  return { destination, path, change, patch };
}

/** Every changed file of one Destination, by path. */
export function destinationDiffs(
  destination: string,
  resulting: Map<string, string | Uint8Array | undefined>,
  current: (path: string) => Uint8Array | undefined,
): FileDiff[] {
  return [...resulting.keys()]
    .sort()
    .flatMap((p) => fileDiff(destination, p, current(p), resulting.get(p)) ?? []);
}

/** One Work of the plan: a Promise pipeline's, the static dependencies', or a resource's. */
export interface WorkPlan extends WorkPlacementPlan {
  work: string;
  pipeline: string;
  /** Why it could not be planned (the pipeline failed, the request is invalid). */
  error?: string;
}

export interface ResourceUpdatePlan {
  namespace: string;
  name: string;
  /** `latest` (floating, or no binding yet) or the version it is pinned to. */
  binding: string;
  batch: number;
  works: WorkPlan[];
  error?: string;
}

export interface UpdatePlan {
  promise: string;
  /** Absent: the Promise is new. */
  currentVersion?: string;
  proposedVersion: string;
  /** False: the spec and version are unchanged, so `apply` would start no update. */
  changed: boolean;
  rollout: string;
  resolvedRollout: ResolvedRollout;
  promiseWorks: WorkPlan[];
  resources: ResourceUpdatePlan[];
  pinned: PinnedResource[];
  batches: string[][];
  files: FileDiff[];
  summary: PlanSummary;
}

export interface PlanSummary {
  resourcesRerun: number;
  resourcesPinned: number;
  batches: number;
  placements: Record<PlacementChangeKind | 'unscheduled', number>;
  /** Changed files by Destination. */
  filesChanged: Record<string, number>;
  errors: number;
}

export const resourceKey = (r: { namespace: string; name: string }) => `${r.namespace}/${r.name}`;

/** Assembles the plan: batches from the rollout, counts from the parts. */
export function assemblePlan(input: {
  promise: string;
  currentVersion?: string;
  proposedVersion: string;
  changed: boolean;
  rollout: ResolvedRollout;
  rerun: FleetResource[];
  pinned: PinnedResource[];
  promiseWorks: WorkPlan[];
  resourceWorks: Map<string, { works: WorkPlan[]; error?: string }>;
  files: FileDiff[];
}): UpdatePlan {
  const batches = planBatches(input.rollout, input.rerun);
  const batchOf = new Map<string, number>();
  batches.forEach((b, i) => b.forEach((r) => batchOf.set(resourceKey(r), i)));
  const resources: ResourceUpdatePlan[] = input.rerun.map((r) => {
    const planned = input.resourceWorks.get(resourceKey(r));
    return {
      namespace: r.namespace,
      name: r.name,
      binding: isFloating(r.binding) ? 'latest' : r.binding!.spec!.version,
      batch: batchOf.get(resourceKey(r)) ?? 0,
      works: planned?.works ?? [],
      ...(planned?.error ? { error: planned.error } : {}),
    };
  });
  const allWorks = [...input.promiseWorks, ...resources.flatMap((r) => r.works)];
  const placements = { added: 0, kept: 0, misplaced: 0, unscheduled: 0 };
  for (const w of allWorks) {
    for (const c of w.changes) placements[c.change]++;
    placements.unscheduled += w.unscheduled.length;
  }
  const filesChanged: Record<string, number> = {};
  for (const f of input.files) filesChanged[f.destination] = (filesChanged[f.destination] ?? 0) + 1;
  const errors = allWorks.filter((w) => w.error).length + resources.filter((r) => r.error).length;
  return {
    promise: input.promise,
    ...(input.currentVersion !== undefined ? { currentVersion: input.currentVersion } : {}),
    proposedVersion: input.proposedVersion,
    changed: input.changed,
    rollout: describeRollout(input.rollout),
    resolvedRollout: input.rollout,
    promiseWorks: input.promiseWorks,
    resources,
    pinned: input.pinned,
    batches: batches.map((b) => b.map(resourceKey)),
    files: input.files,
    summary: {
      resourcesRerun: resources.length,
      resourcesPinned: input.pinned.length,
      batches: batches.length,
      placements,
      filesChanged,
      errors,
    },
  };
}
