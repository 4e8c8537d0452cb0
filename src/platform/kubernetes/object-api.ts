import type { KubeConfig, KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import {
  ApiException,
  loadYaml,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { ResourceType } from './resource-types';

/** A Kubernetes object as plain JSON (what the API server sends and takes). */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    finalizers?: string[];
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
};

export interface KubeList {
  items: KubeObject[];
  metadata?: { continue?: string; resourceVersion?: string };
}

export interface ListQuery {
  labelSelector?: string;
  limit?: number;
  continue?: string;
}

/** An API server answer other than success, with its HTTP code and Status message. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** The API server's own words for a failed call (`Status.message`), else the HTTP text. */
export function toKubeApiError(err: unknown): unknown {
  if (!(err instanceof ApiException)) return err;
  const e = err as ApiException<unknown>;
  let message = `HTTP ${e.code}`;
  let reason: string | undefined;
  const body: unknown =
    typeof e.body === 'string'
      ? (() => {
          try {
            return JSON.parse(e.body as string) as unknown;
          } catch {
            return e.body;
          }
        })()
      : e.body;
  if (body && typeof body === 'object') {
    const status = body as { message?: unknown; reason?: unknown };
    if (typeof status.message === 'string') message = status.message;
    if (typeof status.reason === 'string') reason = status.reason;
  } else if (typeof body === 'string' && body.trim() !== '') {
    message = body.trim().slice(0, 500);
  }
  return new KubeApiError(e.code, message, reason);
}

export const isNotFound = (err: unknown) => err instanceof KubeApiError && err.code === 404;
export const isConflict = (err: unknown) => err instanceof KubeApiError && err.code === 409;

const plain = <T>(v: unknown): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * A plain JSON object as the typed model client-node's serializer expects for a known kind
 * (CustomResourceDefinition, Lease...). Given plain JSON, the serializer drops fields it
 * only knows by their camelCase model name, e.g. `x-kubernetes-preserve-unknown-fields`.
 */
export function typedModel<T>(object: object): T {
  return loadYaml(JSON.stringify(object));
}

/**
 * Server-side apply of one manifest as `fieldManager` (idempotent: the same manifest again
 * changes nothing); a refusal is thrown in the API server's words, naming the object.
 */
export async function serverSideApply(
  api: KubernetesObjectApi,
  manifest: object,
  fieldManager: string,
): Promise<void> {
  try {
    await api.patch(
      typedModel<KubernetesObject>(manifest),
      undefined,
      undefined,
      fieldManager,
      true,
      PatchStrategy.ServerSideApply,
    );
  } catch (err) {
    const e = toKubeApiError(err);
    const m = manifest as { kind: string; metadata: { name: string; namespace?: string } };
    const where = m.metadata.namespace ? `${m.metadata.namespace}/` : '';
    throw new Error(
      `cannot apply ${m.kind} ${where}${m.metadata.name}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/**
 * The verbs the platform store needs, over any kind: custom resources through
 * CustomObjectsApi, core kinds (Secret, ConfigMap) through CoreV1Api. Errors come out as
 * KubeApiError with the API server's message.
 */
export class ObjectApi {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;

  constructor(readonly kubeConfig: KubeConfig) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async get(type: ResourceType, namespace: string | undefined, name: string) {
    return this.call(async () => {
      if (type.group === '') {
        const ns = namespace || 'default';
        const o =
          type.kind === 'Secret'
            ? await this.core.readNamespacedSecret({ name, namespace: ns })
            : await this.core.readNamespacedConfigMap({ name, namespace: ns });
        return withType(type, plain<KubeObject>(o));
      }
      const g = { group: type.group, version: type.version, plural: type.plural, name };
      return (
        type.namespaced
          ? await this.custom.getNamespacedCustomObject({ ...g, namespace: namespace || 'default' })
          : await this.custom.getClusterCustomObject(g)
      ) as KubeObject;
    });
  }

  async list(type: ResourceType, namespace: string | undefined, q: ListQuery): Promise<KubeList> {
    return this.call(async () => {
      const query = {
        labelSelector: q.labelSelector,
        limit: q.limit,
        _continue: q.continue,
      };
      if (type.group === '') {
        const list = namespace
          ? type.kind === 'Secret'
            ? await this.core.listNamespacedSecret({ namespace, ...query })
            : await this.core.listNamespacedConfigMap({ namespace, ...query })
          : type.kind === 'Secret'
            ? await this.core.listSecretForAllNamespaces(query)
            : await this.core.listConfigMapForAllNamespaces(query);
        const out = plain<KubeList>(list);
        out.items = out.items.map((i) => withType(type, i));
        return out;
      }
      const g = { group: type.group, version: type.version, plural: type.plural, ...query };
      return (
        type.namespaced && namespace
          ? await this.custom.listNamespacedCustomObject({ ...g, namespace })
          : await this.custom.listClusterCustomObject(g)
      ) as KubeList;
    });
  }

  async create(type: ResourceType, body: KubeObject): Promise<KubeObject> {
    return this.call(async () => {
      const namespace = body.metadata.namespace || 'default';
      if (type.group === '') {
        const o =
          type.kind === 'Secret'
            ? await this.core.createNamespacedSecret({ namespace, body: body as never })
            : await this.core.createNamespacedConfigMap({ namespace, body: body as never });
        return withType(type, plain<KubeObject>(o));
      }
      const g = { group: type.group, version: type.version, plural: type.plural, body };
      return (
        type.namespaced
          ? await this.custom.createNamespacedCustomObject({ ...g, namespace })
          : await this.custom.createClusterCustomObject(g)
      ) as KubeObject;
    });
  }

  /** PUT: fails with 409 when `body.metadata.resourceVersion` is not the stored one. */
  async replace(type: ResourceType, body: KubeObject, status = false): Promise<KubeObject> {
    return this.call(async () => {
      const { name } = body.metadata;
      const namespace = body.metadata.namespace || 'default';
      if (type.group === '') {
        const o =
          type.kind === 'Secret'
            ? await this.core.replaceNamespacedSecret({ name, namespace, body: body as never })
            : await this.core.replaceNamespacedConfigMap({ name, namespace, body: body as never });
        return withType(type, plain<KubeObject>(o));
      }
      const g = { group: type.group, version: type.version, plural: type.plural, name, body };
      if (status) {
        return (
          type.namespaced
            ? await this.custom.replaceNamespacedCustomObjectStatus({ ...g, namespace })
            : await this.custom.replaceClusterCustomObjectStatus(g)
        ) as KubeObject;
      }
      return (
        type.namespaced
          ? await this.custom.replaceNamespacedCustomObject({ ...g, namespace })
          : await this.custom.replaceClusterCustomObject(g)
      ) as KubeObject;
    });
  }

  /** JSON merge patch (RFC 7386): `null` removes a key. */
  async mergePatch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: object,
  ): Promise<KubeObject> {
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    return this.call(async () => {
      const ns = namespace || 'default';
      if (type.group === '') {
        const o =
          type.kind === 'Secret'
            ? await this.core.patchNamespacedSecret({ name, namespace: ns, body: patch }, options)
            : await this.core.patchNamespacedConfigMap(
                { name, namespace: ns, body: patch },
                options,
              );
        return withType(type, plain<KubeObject>(o));
      }
      const g = { group: type.group, version: type.version, plural: type.plural, name };
      return (
        type.namespaced
          ? await this.custom.patchNamespacedCustomObject(
              { ...g, namespace: ns, body: patch },
              options,
            )
          : await this.custom.patchClusterCustomObject({ ...g, body: patch }, options)
      ) as KubeObject;
    });
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    await this.call(async () => {
      const ns = namespace || 'default';
      if (type.group === '') {
        if (type.kind === 'Secret') await this.core.deleteNamespacedSecret({ name, namespace: ns });
        else await this.core.deleteNamespacedConfigMap({ name, namespace: ns });
        return;
      }
      const g = {
        group: type.group,
        version: type.version,
        plural: type.plural,
        name,
        propagationPolicy: 'Background',
      };
      if (type.namespaced) await this.custom.deleteNamespacedCustomObject({ ...g, namespace: ns });
      else await this.custom.deleteClusterCustomObject(g);
    });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toKubeApiError(err);
    }
  }
}

/** Typed core clients drop `apiVersion`/`kind` on reads; put them back. */
function withType(type: ResourceType, o: KubeObject): KubeObject {
  return { ...o, apiVersion: type.version, kind: type.kind };
}
