import type { KratixPromise } from '../model/types';
import { crdOf } from '../model/validate';

/** What `promiseflow get KIND` understands: each platform kind and each Promise's API. */
export interface KindInfo {
  kind: string;
  plural: string;
  namespaced: boolean;
  /** For resource kinds: the Promise serving it. */
  promiseName?: string;
}

export const PLATFORM_KINDS: KindInfo[] = [
  { kind: 'Promise', plural: 'promises', namespaced: false },
  { kind: 'PromiseRevision', plural: 'promiserevisions', namespaced: false },
  { kind: 'ResourceBinding', plural: 'resourcebindings', namespaced: true },
  { kind: 'Destination', plural: 'destinations', namespaced: false },
  { kind: 'GitStateStore', plural: 'gitstatestores', namespaced: false },
  { kind: 'BucketStateStore', plural: 'bucketstatestores', namespaced: false },
  { kind: 'Work', plural: 'works', namespaced: true },
  { kind: 'WorkPlacement', plural: 'workplacements', namespaced: true },
  { kind: 'Secret', plural: 'secrets', namespaced: true },
  { kind: 'RolloutPolicy', plural: 'rolloutpolicies', namespaced: false },
];

export function resourceKinds(promises: KratixPromise[]): KindInfo[] {
  const out: KindInfo[] = [];
  for (const p of promises) {
    const crd = crdOf(p);
    if (crd)
      out.push({
        kind: crd.kind,
        plural: crd.plural,
        namespaced: true,
        promiseName: p.metadata.name,
      });
  }
  return out;
}

/** Matches `mongodbs`, `mongodb`, `MongoDB`, `mongodbs.promise.kratix.io`, `workplacements.platform.kratix.io`. */
export function resolveKind(arg: string, kinds: KindInfo[]): KindInfo | undefined {
  const wanted = arg.toLowerCase().split('.')[0]!;
  return kinds.find(
    (k) =>
      k.plural === wanted ||
      k.kind.toLowerCase() === wanted ||
      k.plural.replace(/s$/, '') === wanted,
  );
}
