/**
 * Accessors of a Promise: the API its `spec.api` CRD offers, and its version label. They
 * read what validation already accepted and never throw. Pure.
 */
import { isMap, type Json } from './field-checks';
import type { KratixObject, KratixPromise, PromiseSpec } from './types';

export const PROMISE_VERSION_LABEL = 'kratix.io/promise-version';
export const VERSION_NOT_SET = 'not-set';

export interface CrdInfo {
  group: string;
  kind: string;
  plural: string;
  singular?: string;
  /** Names of the served versions, in the CRD's order. */
  versions: string[];
  /** The version with `storage: true` (else the first served one). */
  storageVersion: string;
}

function specOf(promise: KratixPromise | PromiseSpec): PromiseSpec | undefined {
  const p = promise as Json;
  if (p.kind === 'Promise' && typeof p.apiVersion === 'string') {
    return isMap(p.spec) ? (p.spec as PromiseSpec) : undefined;
  }
  return promise as PromiseSpec;
}

export function crdVersions(promise: KratixPromise | PromiseSpec): Json[] {
  const api = specOf(promise)?.api;
  const spec = isMap(api?.spec) ? api.spec : undefined;
  return Array.isArray(spec?.versions) ? spec.versions.filter(isMap) : [];
}

/** The API a Promise offers (its `spec.api` CRD), or undefined for a Promise without one. */
export function crdOf(promise: KratixPromise | PromiseSpec): CrdInfo | undefined {
  const api = specOf(promise)?.api;
  if (!isMap(api) || !isMap(api.spec) || !isMap(api.spec.names)) return undefined;
  const { group } = api.spec;
  const { kind, plural, singular } = api.spec.names;
  if (typeof group !== 'string' || typeof kind !== 'string' || typeof plural !== 'string') {
    return undefined;
  }
  const all = crdVersions(promise);
  const versions = all
    .filter((v) => v.served === true && typeof v.name === 'string')
    .map((v) => v.name as string);
  const storage = all.find((v) => v.storage === true && typeof v.name === 'string');
  const storageVersion = (storage?.name as string | undefined) ?? versions[0];
  if (storageVersion === undefined) return undefined;
  return {
    group,
    kind,
    plural,
    ...(typeof singular === 'string' ? { singular } : {}),
    versions,
    storageVersion,
  };
}

/**

/** Label `kratix.io/promise-version`, or `not-set` when there is none. */
export function promiseVersion(promise: KratixObject): string {
  const version = promise.metadata?.labels?.[PROMISE_VERSION_LABEL];
  return typeof version === 'string' && version !== '' ? version : VERSION_NOT_SET;
}
