import type { Destination, StateStore, WorkSpec } from './types';

/**
 * State-store path layout (behaviour §7, Kratix's `nestedByMetadata`). Pure string work so
 * the writers never need to know what a Promise or a resource is.
 */

export const STATIC_DEPENDENCIES_PIPELINE = 'static';

function joinPath(...parts: (string | undefined)[]): string {
  return parts
    .flatMap((p) => (p ?? '').split('/'))
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

/** `<stateStore.spec.path>/<destination.spec.path>` */
export function destinationBasePath(destination: Destination, stateStore: StateStore): string {
  return joinPath(stateStore.spec?.path, destination.spec?.path);
}

/** Directory (relative to the destination base) holding one workload group of a Work. */
export function workloadGroupDirectory(work: WorkSpec, groupId: string): string {
  switch (work.source) {
    case 'dependencies':
      // Static dependencies: dependencies/<promise>/5058f/static/<promise>-dependencies.yaml
      return joinPath('dependencies', work.promiseName, groupId, STATIC_DEPENDENCIES_PIPELINE);
    case 'promise':
      return joinPath('dependencies', work.promiseName, work.pipelineName, groupId);
    case 'resource':
      return joinPath(
        'resources',
        work.resourceNamespace ?? 'default',
        work.promiseName,
        work.resourceName,
        work.pipelineName,
        groupId,
      );
  }
}

export function staticDependenciesFilename(promiseName: string): string {
  return `${promiseName}-dependencies.yaml`;
}

/** Full root-relative directory for a workload group in nestedByMetadata mode. */
export function nestedPlacementDirectory(
  destination: Destination,
  stateStore: StateStore,
  work: WorkSpec,
  groupId: string,
): string {
  return joinPath(
    destinationBasePath(destination, stateStore),
    workloadGroupDirectory(work, groupId),
  );
}

export { joinPath };

/**
 * The documents Kratix writes when a Destination is registered, so a GitOps agent (and
 * an operator) can see the Destination is wired up: a Namespace under dependencies/ and a
 * ConfigMap under resources/ (both at the root in `none` mode).
 */
export function destinationCheckFiles(
  destination: Destination,
  stateStore: StateStore,
): { path: string; content: string }[] {
  const base = destinationBasePath(destination, stateStore);
  const nested = (destination.spec?.filepath?.mode ?? 'nestedByMetadata') !== 'none';
  return [
    {
      path: joinPath(base, nested ? 'dependencies' : '', 'kratix-canary-namespace.yaml'),
      content: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kratix-worker-system\n',
    },
    {
      path: joinPath(base, nested ? 'resources' : '', 'kratix-canary-configmap.yaml'),
      content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kratix-info\n  namespace: kratix-worker-system\ndata:\n  destination: ${destination.metadata.name}\n`,
    },
  ];
}

export const DEFAULT_AGGREGATED_FILENAME = 'aggregated.yaml';

export function filepathMode(
  destination: Destination,
): 'nestedByMetadata' | 'aggregatedYAML' | 'none' {
  return destination.spec?.filepath?.mode ?? 'nestedByMetadata';
}

/** `aggregatedYAML`: every placement of the Destination in one file. */
export function aggregatedFilePath(destination: Destination, stateStore: StateStore): string {
  return joinPath(
    destinationBasePath(destination, stateStore),
    destination.spec?.filepath?.filename ?? DEFAULT_AGGREGATED_FILENAME,
  );
}

/** `none`: files sit at the Destination root; this file remembers which are whose. */
export function noneModeTrackingFile(
  destination: Destination,
  stateStore: StateStore,
  placementName: string,
): string {
  return joinPath(destinationBasePath(destination, stateStore), '.kratix', `${placementName}.yaml`);
}

/** The aggregated document: each placement's workloads, in placement-name order, joined by `---`. */
export function aggregateDocuments(parts: { placementName: string; contents: string[] }[]): string {
  const docs = [...parts]
    .sort((a, b) => a.placementName.localeCompare(b.placementName))
    .flatMap((p) => p.contents)
    .map((c) => c.replace(/^---\s*\n/, '').trimEnd())
    .filter((c) => c !== '');
  return docs.length === 0 ? '' : `${docs.join('\n---\n')}\n`;
}
