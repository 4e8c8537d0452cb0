import { stringify } from 'yaml';
import {
  aggregateDocuments,
  aggregatedFilePath,
  destinationBasePath,
  filepathMode,
  joinPath,
  nestedPlacementDirectory,
  noneModeTrackingFile,
} from '../model/paths';
import { LABELS } from '../model/labels';
import type { Destination, StateStore, Work, WorkloadGroup, WorkPlacement } from '../model/types';
import { listAll } from '../platform/store';
import type { UpdateBatch } from '../statestores/writer';
import type { ActivityDeps } from './deps';

/**
 * What one placement puts in its Destination's state store, by the Destination's
 * `filepath.mode`: a directory of its own (nestedByMetadata), loose files at the root
 * tracked by `.kratix/<placement>.yaml` (none), or its share of one aggregated file
 * (aggregatedYAML, rebuilt from every placement of the Destination).
 */
export interface PlacementFiles {
  batch: UpdateBatch;
  /** Root-relative paths the placement owns (removed when it is deleted). */
  paths: string[];
}

export function placementFiles(
  destination: Destination,
  store: StateStore,
  work: Work,
  group: WorkloadGroup,
  placementName: string,
  previous: WorkPlacement | undefined,
): PlacementFiles {
  const mode = filepathMode(destination);
  if (mode === 'none') {
    const base = destinationBasePath(destination, store);
    const files = group.workloads.map((w) => ({
      path: joinPath(base, w.filepath),
      content: w.content,
    }));
    const tracking = noneModeTrackingFile(destination, store, placementName);
    const owned = files.map((f) => f.path);
    const stale = (previous?.spec?.paths ?? []).filter((p) => p !== tracking && !owned.includes(p));
    return {
      batch: {
        message: '',
        writeFiles: [
          ...files,
          { path: tracking, content: stringify({ workPlacement: placementName, files: owned }) },
        ],
        deletePaths: stale,
      },
      paths: [...owned, tracking],
    };
  }
  if (mode === 'aggregatedYAML') {
    // The aggregated file itself is written once per Destination by aggregatedFiles().
    return { batch: { message: '' }, paths: [] };
  }
  const dir = nestedPlacementDirectory(destination, store, work.spec!, group.id);
  return {
    batch: {
      message: '',
      replaceDirs: [
        { dir, files: group.workloads.map((w) => ({ path: w.filepath, content: w.content })) },
      ],
    },
    paths: [dir],
  };
}

/**
 * The aggregated file of an `aggregatedYAML` Destination: every placement targeting it,
 * with `overrides` (placements being written now, or `null` for ones being deleted).
 */
export async function aggregatedFile(
  deps: ActivityDeps,
  destination: Destination,
  store: StateStore,
  overrides: Map<string, string[] | null>,
): Promise<{ path: string; content: string }> {
  const parts = new Map<string, string[]>();
  const placements = await listAll<WorkPlacement>(deps.store, 'WorkPlacement', {
    labelSelector: { [LABELS.targetDestinationName]: destination.metadata.name },
  });
  for (const p of placements) {
    if (!p.spec) continue;
    const work = await deps.store.get<Work>({
      kind: 'Work',
      name: p.spec.workName,
      namespace: p.spec.workNamespace,
    });
    const group = work?.spec?.workloadGroups.find((g) => g.id === p.spec!.workloadGroupId);
    if (group)
      parts.set(
        p.metadata.name,
        group.workloads.map((w) => w.content),
      );
  }
  for (const [name, contents] of overrides) {
    if (contents === null) parts.delete(name);
    else parts.set(name, contents);
  }
  return {
    path: aggregatedFilePath(destination, store),
    content: aggregateDocuments(
      [...parts].map(([placementName, contents]) => ({ placementName, contents })),
    ),
  };
}

/** Folds one placement's batch into the batch for its state store. */
export function mergeBatch(into: UpdateBatch, part: UpdateBatch): void {
  if (part.replaceDirs?.length) (into.replaceDirs ??= []).push(...part.replaceDirs);
  if (part.writeFiles?.length) (into.writeFiles ??= []).push(...part.writeFiles);
  if (part.deletePaths?.length) (into.deletePaths ??= []).push(...part.deletePaths);
}
