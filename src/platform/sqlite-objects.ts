/**
 * Objects of the SQLite store: what a caller's object becomes when stored (checked, status
 * and managed metadata dropped), rows assembled back into objects, and JSON equality.
 */
import type { KratixObject } from '../model/types';
import { describeObject, InvalidInputError } from '../model/errors';
import type { ObjectKey } from './store';

export interface ObjectRow {
  kind: string;
  namespace: string;
  name: string;
  object: string;
  status: string | null;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StoredObject = KratixObject;
/** Looser than `KratixObject` so typed specs without an index signature pass. */
export type AnyKratixObject = KratixObject<object, object>;

export function checkStatus(key: ObjectKey, status: unknown): void {
  if (typeof status !== 'object' || status === null || Array.isArray(status)) {
    throw new InvalidInputError({
      object: describeObject(key.kind, key.name),
      field: 'status',
      expected: 'an object',
      got: Array.isArray(status) ? 'an array' : String(status),
    });
  }
}

export function assemble(row: ObjectRow): KratixObject {
  const object = JSON.parse(row.object) as KratixObject;
  if (row.status !== null) object.status = JSON.parse(row.status) as Record<string, unknown>;
  return object;
}

/** A JSON copy of the caller's object without status and managed metadata, checked. */
export function normalizeInput(object: AnyKratixObject): StoredObject {
  const kind: unknown = object?.kind;
  const name: unknown = object?.metadata?.name;
  const where = describeObject(
    typeof kind === 'string' ? kind : undefined,
    typeof name === 'string' ? name : undefined,
  );
  if (typeof kind !== 'string' || kind === '') {
    throw new InvalidInputError({ object: where, field: 'kind', expected: 'a non-empty string' });
  }
  if (typeof name !== 'string' || name === '') {
    throw new InvalidInputError({
      object: where,
      field: 'metadata.name',
      expected: 'a non-empty string',
    });
  }
  const namespace: unknown = object.metadata.namespace;
  if (namespace !== undefined && typeof namespace !== 'string') {
    throw new InvalidInputError({
      object: where,
      field: 'metadata.namespace',
      expected: 'a string',
      got: JSON.stringify(namespace),
    });
  }
  const labels: unknown = object.metadata.labels;
  if (labels !== undefined) {
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
      throw new InvalidInputError({
        object: where,
        field: 'metadata.labels',
        expected: 'a map of strings',
        got: JSON.stringify(labels),
      });
    }
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') {
        throw new InvalidInputError({
          object: where,
          field: `metadata.labels.${k}`,
          expected: 'a string (quote numbers and booleans in YAML)',
          got: JSON.stringify(v),
        });
      }
    }
  }

  const copy = JSON.parse(JSON.stringify(object)) as StoredObject;
  delete copy.status;
  const {
    uid: _u,
    creationTimestamp: _c,
    generation: _g,
    resourceVersion: _r,
    ...meta
  } = copy.metadata;
  // Cluster-scoped objects are stored without a namespace key at all.
  if (meta.namespace === '') delete meta.namespace;
  // Same rule as patchLabels: no labels means no `labels` key.
  if (meta.labels && Object.keys(meta.labels).length === 0) delete meta.labels;
  copy.metadata = meta as StoredObject['metadata'];
  return copy;
}

export function managedMetadata(object: StoredObject): Partial<StoredObject['metadata']> {
  const { uid, creationTimestamp, generation, resourceVersion } = object.metadata;
  return { uid, creationTimestamp, generation, resourceVersion };
}

export function nextResourceVersion(object: StoredObject): string {
  const current = Number(object.metadata.resourceVersion ?? '0');
  return String((Number.isFinite(current) ? current : 0) + 1);
}

/** JSON equality where object key order does not matter and array order does. */
export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}
