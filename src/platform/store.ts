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
  /**
   * Read-modify-write of `status` with optimistic concurrency: `mutate` gets the object as
   * stored and returns its new status (undefined: leave it). When another writer changed the
   * object in between, `mutate` runs again on the fresh object, so no write is lost.
   * Returns the stored object, or undefined if it is gone.
   */
  mutateStatus<T extends StoredObject = KratixObject>(
    key: ObjectKey,
    mutate: (current: T) => Record<string, unknown> | undefined,
  ): Promise<T | undefined>;
  /** Set labels (string) or remove them (null); returns the stored object. */
  patchLabels<T extends StoredObject = KratixObject>(
    key: ObjectKey,
    labels: Record<string, string | null>,
  ): Promise<T | undefined>;
  /** Returns true if something was deleted. */
  delete(key: ObjectKey): Promise<boolean>;
  /**
   * Serves a Promise's API (the CustomResourceDefinition built from its `spec.api`). On
   * Kubernetes the CRD is installed, so the API server itself validates requests; the
   * embedded store validates requests against the Promise and has nothing to install.
   * A definition the platform refuses is an InvalidInputError naming why.
   */
  ensureResourceApi(crd: KratixObject): Promise<void>;
  /** Stops serving the API installed for a Promise (by CRD name); missing is fine. */
  removeResourceApi(name: string): Promise<void>;
  /** Records an event about an object (`kubectl describe`'s Events). Best effort. */
  recordEvent(about: ObjectKey, event: PlatformEvent): Promise<void>;
  /** The events recorded about an object, oldest first (`promiseflow describe`). */
  listEvents(about: ObjectKey): Promise<RecordedEvent[]>;
  close(): Promise<void>;
}

export interface PlatformEvent {
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. `UpdateStarted`, `ReconcileFailed`. */
  reason: string;
  message: string;
}

export interface RecordedEvent extends PlatformEvent {
  /** ISO 8601: when it (last) happened. */
  time: string;
  /** How many times it happened (Kubernetes counts repeats); 1 when not counted. */
  count?: number;
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
