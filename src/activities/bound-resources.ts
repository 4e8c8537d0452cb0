import { resourceBindingName } from '../model/revisions';
import type { KratixObject, ResourceBinding } from '../model/types';
import { DEFAULT_NAMESPACE } from '../model/types';
import type { ActivityDeps } from './deps';

export interface ResourcePage {
  resources: { namespace: string; name: string }[];
  /** The platform store's cursor for the next page; absent on the last one. */
  cursor?: string;
}

/**
 * One page of a Promise's resource requests (of `kind`) whose ResourceBinding passes
 * `keep`. A page may hold fewer than `pageSize` (or none) and still have a next one.
 */
export async function pageOfResources(
  deps: ActivityDeps,
  promiseName: string,
  kind: string,
  page: { cursor?: string; pageSize: number },
  keep: (binding: ResourceBinding | undefined) => boolean,
  labelled: (labels: Record<string, string> | undefined) => boolean = () => true,
): Promise<ResourcePage> {
  const result = await deps.store.list<KratixObject>(kind, {
    limit: page.pageSize,
    continue: page.cursor,
  });
  const resources: ResourcePage['resources'] = [];
  for (const r of result.items) {
    if (!labelled(r.metadata.labels)) continue;
    const namespace = r.metadata.namespace ?? DEFAULT_NAMESPACE;
    const binding = await deps.store.get<ResourceBinding>({
      kind: 'ResourceBinding',
      name: resourceBindingName(promiseName, r.metadata.name),
      namespace,
    });
    if (keep(binding)) resources.push({ namespace, name: r.metadata.name });
  }
  return { resources, cursor: result.continue };
}
