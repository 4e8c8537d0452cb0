/**
 * Kubernetes objects as the platform store sees them: what is sent (status and
 * server-owned metadata dropped, Secret stringData as data), what comes back (no namespace
 * key on cluster-scoped kinds), how an apply merges into the stored object, and the cursor
 * that lets a page continue after the API server's continue token expired. Pure.
 */
import { InvalidInputError } from '../../model/errors';
import type { KratixObject } from '../../model/types';
import type { KubeObject } from './object-api';
import type { ResourceType } from './resource-types';
import { apiVersionOf } from './resource-types';

/** Metadata the API server owns: never sent back from a caller's object. */
export const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
];

/** What the API server should store for `object`: status and server-owned metadata dropped. */
export function toKube(object: KratixObject, type: ResourceType): KubeObject {
  const copy = JSON.parse(JSON.stringify(object)) as KubeObject;
  delete copy.status;
  for (const k of SERVER_METADATA) delete copy.metadata[k];
  if (!type.namespaced) delete copy.metadata.namespace;
  else copy.metadata.namespace ||= 'default';
  if (type.kind === 'Secret' && copy.stringData && typeof copy.stringData === 'object') {
    // The API server stores stringData as base64 `data`; convert so re-applies compare equal.
    const data = { ...((copy.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(copy.stringData as Record<string, string>)) {
      data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    }
    copy.data = data;
    delete copy.stringData;
  }
  return copy;
}

/** The API server's object as the platform sees it (cluster-scoped: no namespace key). */
export function fromKube(o: KubeObject, type: ResourceType): KratixObject {
  const copy = { ...o, metadata: { ...o.metadata } } as KratixObject;
  if (!type.namespaced) delete copy.metadata.namespace;
  copy.apiVersion ??= apiVersionOf(type);
  copy.kind ??= type.kind;
  return copy;
}

/**
 * The stored object with the caller's labels, annotations and top-level fields (spec,
 * data, ...); status, finalizers and owner references stay the server's.
 */
export function mergeForApply(existing: KubeObject, input: KubeObject): KubeObject {
  const out: KubeObject = { ...existing };
  for (const k of Object.keys(out)) {
    if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k) && !(k in input)) delete out[k];
  }
  for (const [k, v] of Object.entries(input)) {
    if (k !== 'metadata' && k !== 'status') out[k] = v;
  }
  const metadata = { ...existing.metadata };
  delete metadata.labels;
  delete metadata.annotations;
  if (input.metadata.labels && Object.keys(input.metadata.labels).length > 0)
    metadata.labels = input.metadata.labels;
  if (input.metadata.annotations && Object.keys(input.metadata.annotations).length > 0)
    metadata.annotations = input.metadata.annotations;
  out.metadata = metadata;
  return out;
}

export function sameObject(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { status: _s, ...rest } = o;
    return rest;
  };
  return jsonEqual(strip(a), strip(b));
}

/** JSON equality where key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) =>
    jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

export interface Cursor {
  /** The API server's continue token. */
  c: string;
  /** Storage key of the last item returned. */
  a: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(token: string): Cursor {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof v.c === 'string' && typeof v.a === 'string') return { c: v.c, a: v.a };
  } catch {
    // reported below
  }
  throw new InvalidInputError({
    field: 'continue',
    expected: 'the `continue` token of a previous page',
    got: JSON.stringify(token),
  });
}
