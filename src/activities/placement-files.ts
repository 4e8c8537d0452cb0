import { LABELS } from '../model/labels';
import { aggregateDocuments, aggregatedFilePath } from '../model/paths';
import type { Destination, StateStore, Work, WorkPlacement } from '../model/types';
import { listAll } from '../platform/store';
import type { FileToWrite } from '../statestores/writer';
import type { ActivityDeps } from './deps';

/**
 * The one file of an `aggregatedYAML` Destination, derived from the WorkPlacements the
 * platform store records for it. Its content is computed by the writer when it applies the
 * batch, and again after a rejected push, so two writers adding placements to the same
 * Destination at once cannot drop each other's share: placements are recorded before it.
 */
export function aggregatedFile(
  deps: ActivityDeps,
  destination: Destination,
  store: StateStore,
): FileToWrite {
  return {
    path: aggregatedFilePath(destination, store),
    content: async () => {
      const parts: { placementName: string; contents: string[] }[] = [];
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
        // One YAML file holds text: a binary workload is carried as its text decoding.
        const contents = (group?.workloads ?? []).map((w) =>
          w.encoding === 'base64' ? Buffer.from(w.content, 'base64').toString('utf8') : w.content,
        );
        if (group) parts.push({ placementName: p.metadata.name, contents });
      }
      return aggregateDocuments(parts);
    },
  };
}
