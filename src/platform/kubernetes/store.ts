/**
 * The PlatformStore on a Kubernetes API server: Kratix's kinds are the platform.kratix.io
 * CRDs (platform/kubernetes/crds.ts), Secrets and ConfigMaps are core objects, and each
 * Promise's API is the CRD built from its `spec.api`. Every update carries the
 * resourceVersion it read (optimistic concurrency) and retries on a conflict; status goes
 * through the status subresource.
 *
 * ~370 lines: one method per PlatformStore verb, each with its conflict retry; the
 * conversions, CRD installation, events and kind lookup live beside it.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError, describeObject } from '../../model/errors';
import { formatLabelSelector } from '../../model/selectors';
import type { KratixObject } from '../../model/types';
import type {
  ApplyResult,
  ListOptions,
  ListPage,
  ObjectKey,
  PlatformEvent,
  RecordedEvent,
  PlatformStore,
} from '../store';
import type { KubeObject } from './object-api';
import { isConflict, isNotFound, KubeApiError, ObjectApi, toKubeApiError } from './object-api';
import { KubeEvents } from './events';
import {
  decodeCursor,
  encodeCursor,
  fromKube,
  jsonEqual,
  mergeForApply,
  sameObject,
  toKube,
} from './objects';
import { ResourceApis } from './resource-apis';
import type { ResourceType } from './resource-types';
import { ResourceTypes, storageKey } from './resource-types';

/** Added by the bridge so deletions run their workflow first; removed by `delete`. */
export const PROMISEFLOW_FINALIZER = 'promiseflow.io/cleanup';

/** Writers racing on one object retry this often (with a jittered pause) before failing. */
const CONFLICT_RETRIES = 30;

type AnyObject = KratixObject<object, object>;

export interface KubernetesPlatformStoreOptions {
  kubeConfig: KubeConfig;
  /** Component named on Events (`kubectl describe`). */
  component?: string;
}

export class KubernetesPlatformStore implements PlatformStore {
  readonly api: ObjectApi;
  private readonly coreApi: CoreV1Api;
  private readonly resourceApis: ResourceApis;
  private readonly events: KubeEvents;
  private readonly types: ResourceTypes;
  private readonly ensuredNamespaces = new Set<string>();

  constructor(options: KubernetesPlatformStoreOptions) {
    this.api = new ObjectApi(options.kubeConfig);
    this.types = new ResourceTypes(this.api);
    this.coreApi = options.kubeConfig.makeApiClient(CoreV1Api);
    this.resourceApis = new ResourceApis(options.kubeConfig);
    this.events = new KubeEvents(options.kubeConfig, options.component ?? 'promiseflow');
  }

  async get<T extends AnyObject = KratixObject>(key: ObjectKey): Promise<T | undefined> {
    const type = await this.typeOf(key.kind);
    if (!type) return undefined;
    try {
      return fromKube(await this.api.get(type, key.namespace, key.name), type) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Pages are the API server's (`limit`/`continue`); the cursor also carries the last key,
   * so a page asked for after the server's continue token expired (410, after etcd
   * compaction: long fleet updates) resumes after that key instead of failing.
   */
  async list<T extends AnyObject = KratixObject>(
    kind: string,
    options: ListOptions = {},
  ): Promise<ListPage<T>> {
    const type = await this.typeOf(kind);
    if (!type) return { items: [] };
    const labelSelector =
      options.labelSelector === undefined
        ? undefined
        : typeof options.labelSelector === 'string'
          ? options.labelSelector
          : formatLabelSelector(options.labelSelector);
    const limit = options.limit && options.limit > 0 ? options.limit : undefined;
    const cursor = options.continue ? decodeCursor(options.continue) : undefined;
    const namespace = options.namespace || undefined;
    let items: KubeObject[];
    let next: string | undefined;
    try {
      const page = await this.api.list(type, namespace, {
        labelSelector,
        limit,
        continue: cursor?.c,
      });
      items = page.items;
      next = page.metadata?.continue || undefined;
    } catch (err) {
      // An API not served (yet, or any more: a Promise being deleted) has no objects.
      if (isNotFound(err)) return { items: [] };
      if (!(err instanceof KubeApiError && err.code === 410 && cursor?.a)) throw err;
      ({ items, next } = await this.pageAfter(type, namespace, labelSelector, limit, cursor.a));
    }
    const out = items.map((i) => fromKube(i, type) as T);
    const last = items[items.length - 1];
    if (!next || !last) return { items: out };
    const after = storageKey(type, last.metadata.namespace, last.metadata.name);
    return { items: out, continue: encodeCursor({ c: next, a: after }) };
  }

  /**
   * Re-lists from the start and skips to the first item after `after` (etcd key order);
   * the page where that item is found is returned with its own, fresh continue token.
   */
  private async pageAfter(
    type: ResourceType,
    namespace: string | undefined,
    labelSelector: string | undefined,
    limit: number | undefined,
    after: string,
  ): Promise<{ items: KubeObject[]; next?: string }> {
    let token: string | undefined;
    do {
      const page = await this.api.list(type, namespace, {
        labelSelector,
        limit: limit ?? 500,
        continue: token,
      });
      token = page.metadata?.continue || undefined;
      const found = page.items.filter(
        (i) => storageKey(type, i.metadata.namespace, i.metadata.name) > after,
      );
      if (found.length > 0) return { items: found, next: token };
    } while (token);
    return { items: [] };
  }

  async apply<T extends AnyObject>(object: T): Promise<{ object: T; result: ApplyResult }> {
    const type = await this.requireType(object.kind, object);
    const input = toKube(object as unknown as KratixObject, type);
    for (let attempt = 1; ; attempt++) {
      const existing = await this.getRaw(type, input.metadata.namespace, input.metadata.name);
      if (!existing) {
        try {
          const created = await this.createEnsuringNamespace(type, input);
          return { object: fromKube(created, type) as T, result: 'created' };
        } catch (err) {
          if (isConflict(err) && attempt < CONFLICT_RETRIES) continue; // created meanwhile
          throw this.invalid(err, object);
        }
      }
      const candidate = mergeForApply(existing, input);
      if (sameObject(existing, candidate)) {
        return { object: fromKube(existing, type) as T, result: 'unchanged' };
      }
      try {
        const stored = await this.api.replace(type, candidate);
        const result =
          stored.metadata.resourceVersion === existing.metadata.resourceVersion
            ? 'unchanged'
            : 'configured';
        return { object: fromKube(stored, type) as T, result };
      } catch (err) {
        if (isConflict(err) && attempt < CONFLICT_RETRIES) {
          await backoff(attempt);
          continue;
        }
        throw this.invalid(err, object);
      }
    }
  }

  async updateStatus<T extends AnyObject = KratixObject>(
    key: ObjectKey,
    status: Record<string, unknown>,
  ): Promise<T | undefined> {
    return this.mutateStatus<T>(key, () => status);
  }

  async mutateStatus<T extends AnyObject = KratixObject>(
    key: ObjectKey,
    mutate: (current: T) => Record<string, unknown> | undefined,
  ): Promise<T | undefined> {
    const type = await this.typeOf(key.kind);
    if (!type) return undefined;
    for (let attempt = 1; ; attempt++) {
      const existing = await this.getRaw(type, key.namespace, key.name);
      if (!existing) return undefined;
      const current = fromKube(existing, type) as T;
      const status = mutate(current);
      if (status === undefined || jsonEqual(existing.status ?? {}, status)) return current;
      try {
        const stored = await this.api.replace(type, { ...existing, status }, true);
        return fromKube(stored, type) as T;
      } catch (err) {
        if (isConflict(err) && attempt < CONFLICT_RETRIES) {
          await backoff(attempt);
          continue;
        }
        if (isNotFound(err)) return undefined;
        throw this.invalid(err, current);
      }
    }
  }

  async patchLabels<T extends AnyObject = KratixObject>(
    key: ObjectKey,
    labels: Record<string, string | null>,
  ): Promise<T | undefined> {
    const type = await this.typeOf(key.kind);
    if (!type) return undefined;
    try {
      const stored = await this.api.mergePatch(type, key.namespace, key.name, {
        metadata: { labels },
      });
      return fromKube(stored, type) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.invalid(err, { kind: key.kind, metadata: { name: key.name } });
    }
  }

  /**
   * Deletes the object and then lets it go: a finalizer of ours (added by the bridge so
   * that `kubectl delete` waits for the deletion workflow) is removed last, by the
   * workflow, which is the only caller of `delete` for such objects.
   */
  async delete(key: ObjectKey): Promise<boolean> {
    const type = await this.typeOf(key.kind);
    if (!type) return false;
    const existing = await this.getRaw(type, key.namespace, key.name);
    if (!existing) return false;
    if (!existing.metadata.deletionTimestamp) {
      try {
        await this.api.delete(type, key.namespace, key.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return true;
      }
    }
    await this.removeFinalizer(type, key);
    return true;
  }

  private async removeFinalizer(type: ResourceType, key: ObjectKey): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.getRaw(type, key.namespace, key.name);
      const finalizers = current?.metadata.finalizers ?? [];
      if (!current || !finalizers.includes(PROMISEFLOW_FINALIZER)) return;
      try {
        await this.api.mergePatch(type, key.namespace, key.name, {
          metadata: {
            resourceVersion: current.metadata.resourceVersion,
            finalizers: finalizers.filter((f) => f !== PROMISEFLOW_FINALIZER),
          },
        });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  async ensureResourceApi(crd: KratixObject): Promise<void> {
    await this.resourceApis.ensure(crd);
    this.types.forget(); // a new kind may be served now
  }

  async removeResourceApi(name: string): Promise<void> {
    await this.resourceApis.remove(name);
    this.types.forget();
  }

  async recordEvent(about: ObjectKey, event: PlatformEvent): Promise<void> {
    const type = await this.typeOf(about.kind);
    if (!type) return;
    const object = await this.getRaw(type, about.namespace, about.name);
    await this.events.record(type, about, object?.metadata.uid as string | undefined, event);
  }

  async listEvents(about: ObjectKey): Promise<RecordedEvent[]> {
    const type = await this.typeOf(about.kind);
    return type ? this.events.list(type, about) : [];
  }

  async close(): Promise<void> {}

  /** The type of `kind`: Kratix's and core kinds, else a Promise's API. */
  typeOf(kind: string): Promise<ResourceType | undefined> {
    return this.types.typeOf(kind);
  }

  private async requireType(kind: string, object: AnyObject): Promise<ResourceType> {
    const type = await this.typeOf(kind);
    if (type) return type;
    throw new InvalidInputError({
      object: describeObject(kind, object.metadata?.name),
      field: 'kind',
      expected: 'a Kratix kind or the API of an installed Promise',
      got: kind,
    });
  }

  private async getRaw(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined> {
    try {
      return await this.api.get(type, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Works and WorkPlacements live in namespaces nobody may have created yet. */
  private async createEnsuringNamespace(type: ResourceType, body: KubeObject) {
    try {
      return await this.api.create(type, body);
    } catch (err) {
      const ns = body.metadata.namespace;
      if (!(isNotFound(err) && type.namespaced && ns) || this.ensuredNamespaces.has(ns)) throw err;
      await this.coreApi
        .createNamespace({ body: { metadata: { name: ns } } })
        .catch((e: unknown) => {
          if (!isConflict(toKubeApiError(e))) throw toKubeApiError(e);
        });
      this.ensuredNamespaces.add(ns);
      return this.api.create(type, body);
    }
  }

  /** The API server refused the object itself (422/400): bad input, named as ours are. */
  private invalid(err: unknown, object: { kind?: string; metadata?: { name?: string } }) {
    if (err instanceof KubeApiError && (err.code === 422 || err.code === 400)) {
      return new InvalidInputError({
        object: describeObject(object.kind, object.metadata?.name),
        expected: 'an object the Kubernetes API server accepts',
        got: err.message,
      });
    }
    return err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A short random pause that grows with the attempt, so racing writers spread out. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(500, 10 * 2 ** attempt));

/** Loads a kubeconfig: the given file, else `KUBECONFIG`, `~/.kube/config` or in-cluster. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}
