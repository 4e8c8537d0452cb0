import type { KratixObject } from '../model/types';

/** Any stored object; typed specs (PromiseRevision, Work, ...) need no index signature. */
export type StoredObject = KratixObject<object>;

/**
 * PlatformStore: where Promises, resource requests, PromiseRevisions, ResourceBindings,
 * Destinations, state stores, Secrets, Works and WorkPlacements live. Shaped like the
 * Kubernetes API so the Kubernetes adapter maps one to one: objects are keyed by
 * (kind, namespace, name); cluster-scoped kinds use namespace ''.
 */
export interface ObjectKey {
  kind: string;
  name: string;
  /** '' (or omitted) for cluster-scoped kinds. */
  namespace?: string;
}

export interface ListOptions {
  /** Omit to list across all namespaces. */
  namespace?: string;
  /** Kubernetes label-selector string (`a=b,c!=d,e`) or a matchLabels map. */
  labelSelector?: string | Record<string, string>;
  /** Page size; omit for everything. */
  limit?: number;
  /** Opaque cursor from a previous page's `continue`. */
  continue?: string;
}

export interface ListPage<T> {
  items: T[];
  /** Present when more items follow. */
  continue?: string;
}

export type ApplyResult = 'created' | 'configured' | 'unchanged';

export interface PlatformStore {
  get<T extends StoredObject = KratixObject>(key: ObjectKey): Promise<T | undefined>;
  /** Stable order (namespace, name); pages with `limit`/`continue`. */
  list<T extends StoredObject = KratixObject>(
    kind: string,
    options?: ListOptions,
  ): Promise<ListPage<T>>;
  /**
   * Create, or replace labels/annotations/spec (and any other top-level field but status)
   * of an existing object. `metadata.generation` is bumped only when `spec` changes;
   * status is kept. Returns the stored object.
   */
  apply<T extends StoredObject>(object: T): Promise<{ object: T; result: ApplyResult }>;
  /** Replace `status` wholesale; returns the stored object, or undefined if it is gone. */
  updateStatus<T extends StoredObject = KratixObject>(
    key: ObjectKey,
    status: Record<string, unknown>,
  ): Promise<T | undefined>;
  /** Set labels (string) or remove them (null); returns the stored object. */
  patchLabels<T extends StoredObject = KratixObject>(
    key: ObjectKey,
    labels: Record<string, string | null>,
  ): Promise<T | undefined>;
  /** Returns true if something was deleted. */
  delete(key: ObjectKey): Promise<boolean>;
  close(): Promise<void>;
}

/** Every object of a kind matching the options, read page by page (for bounded sets). */
export async function listAll<T extends StoredObject = KratixObject>(
  store: PlatformStore,
  kind: string,
  options: Omit<ListOptions, 'limit' | 'continue'> = {},
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list<T>(kind, { ...options, limit: 500, continue: cursor });
    out.push(...page.items);
    cursor = page.continue;
  } while (cursor);
  return out;
}
