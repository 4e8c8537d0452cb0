import type { KratixPromise } from '../../model/types';
import { ROLLOUT_GROUP, ROLLOUT_KIND } from '../../model/rollout';
import { PLATFORM_GROUP } from '../../model/types';
import { crdOf } from '../../model/validate';
import type { ObjectApi } from './object-api';

/** Where a kind lives in the Kubernetes API: `/apis/<group>/<version>/<plural>`. */
export interface ResourceType {
  kind: string;
  /** '' for the core group (`/api/v1`). */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

const PLATFORM_VERSION = 'v1alpha1';

const platform = (kind: string, plural: string, namespaced: boolean): ResourceType => ({
  kind,
  group: PLATFORM_GROUP,
  version: PLATFORM_VERSION,
  plural,
  namespaced,
});

/** Kratix's own kinds (CRDs of platform.kratix.io) and the core kinds the platform reads. */
export const STATIC_TYPES: ResourceType[] = [
  platform('Promise', 'promises', false),
  platform('PromiseRevision', 'promiserevisions', false),
  platform('ResourceBinding', 'resourcebindings', true),
  platform('Destination', 'destinations', false),
  platform('GitStateStore', 'gitstatestores', false),
  platform('BucketStateStore', 'bucketstatestores', false),
  platform('Work', 'works', true),
  platform('WorkPlacement', 'workplacements', true),
  {
    kind: ROLLOUT_KIND,
    group: ROLLOUT_GROUP,
    version: 'v1alpha1',
    plural: 'rolloutpolicies',
    namespaced: false,
  },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', namespaced: true },
];

export function staticType(kind: string): ResourceType | undefined {
  return STATIC_TYPES.find((t) => t.kind === kind);
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** The collection's URL path (all namespaces when `namespace` is omitted). */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${type.plural}`;
}

/** etcd's order of a list: by `<namespace>/<name>` as bytes (not by the pair). */
export function storageKey(type: ResourceType, namespace: string | undefined, name: string) {
  return type.namespaced ? `${namespace ?? ''}/${name}` : name;
}

/**
 * Kinds as the API server serves them: Kratix's and core kinds are fixed; a Promise's API
 * is found from the Promises (cached; looked up again at most once a second on a miss, so
 * a Promise installed a moment ago is found).
 */
export class ResourceTypes {
  private byKind = new Map<string, ResourceType>();
  private refreshedAt = 0;

  constructor(private readonly api: ObjectApi) {}

  async typeOf(kind: string): Promise<ResourceType | undefined> {
    const known = staticType(kind);
    if (known) return known;
    let type = this.byKind.get(kind);
    if (!type && Date.now() - this.refreshedAt > 1000) {
      await this.refresh();
      type = this.byKind.get(kind);
    }
    return type;
  }

  /** A Promise's API was installed or removed: look again next time. */
  forget(): void {
    this.refreshedAt = 0;
  }

  private async refresh(): Promise<void> {
    const types = new Map<string, ResourceType>();
    let token: string | undefined;
    do {
      const page = await this.api.list(staticType('Promise')!, undefined, {
        limit: 500,
        continue: token,
      });
      for (const p of page.items) {
        const info = crdOf(p as unknown as KratixPromise);
        if (!info) continue;
        types.set(info.kind, {
          kind: info.kind,
          group: info.group,
          version: info.storageVersion,
          plural: info.plural,
          namespaced: true,
        });
      }
      token = page.metadata?.continue || undefined;
    } while (token);
    this.byKind = types;
    this.refreshedAt = Date.now();
  }
}
