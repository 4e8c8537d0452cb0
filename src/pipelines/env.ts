/**
 * What a Pipeline takes from Secrets and ConfigMaps (`env[].valueFrom`, `envFrom`, `secret` and
 * `configMap` volumes), resolved at run time from the platform store in the namespace the
 * pipeline runs in, as the kubelet resolves them for Kratix's Job: `workflows.config
 * .pipelineNamespace` when set, else the request's namespace (resource workflows) or
 * kratix-platform-system (Promise workflows). The activity resolves (it holds the store); the
 * runners only read the result, so they stay free of the platform store.
 */
import { DEFAULT_NAMESPACE, SYSTEM_NAMESPACE } from '../model/types';
import type { Container, KratixObject, KratixPromise, Pipeline } from '../model/types';
import { kratixEnv } from './contract';
import { PipelineFailedError, type PipelineRunRequest } from './runner';

/** Values taken from Secrets and ConfigMaps for one run. */
export interface ResolvedRefs {
  namespace: string;
  /** Container name → variable → value (an optional reference that is missing is absent). */
  env: Record<string, Record<string, string>>;
  /** Volume name → file path inside the volume → bytes (base64). */
  volumeFiles: Record<string, Record<string, string>>;
}

export type ObjectReader = (key: {
  kind: string;
  name: string;
  namespace?: string;
}) => Promise<KratixObject | undefined>;

export interface ResolveInput {
  pipeline: Pipeline;
  object: KratixObject;
  type: 'promise' | 'resource';
  promiseName: string;
}

/** The namespace Kratix runs a pipeline (and resolves its references) in. */
export function pipelineNamespace(
  promise: Pick<KratixPromise, 'spec'> | undefined,
  type: 'promise' | 'resource',
  object: KratixObject,
): string {
  const configured = promise?.spec?.workflows?.config?.pipelineNamespace;
  if (typeof configured === 'string' && configured !== '') return configured;
  return type === 'resource' ? (object.metadata.namespace ?? DEFAULT_NAMESPACE) : SYSTEM_NAMESPACE;
}

function needsStore(pipeline: Pipeline): boolean {
  const spec = pipeline.spec;
  return (
    (spec?.volumes ?? []).some((v) => v.secret !== undefined || v.configMap !== undefined) ||
    (spec?.containers ?? []).some(
      (c) => (c.envFrom ?? []).length > 0 || (c.env ?? []).some((e) => e.valueFrom !== undefined),
    )
  );
}

/** Key → bytes (base64) of a Secret (`data`, `stringData`) or ConfigMap (`data`, `binaryData`). */
function entriesOf(obj: KratixObject): Record<string, string> {
  const out: Record<string, string> = {};
  const rec = obj as Record<string, unknown>;
  const put = (field: string, base64: boolean): void => {
    const m = rec[field];
    if (typeof m !== 'object' || m === null) return;
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v === 'string') out[k] = base64 ? v : Buffer.from(v, 'utf8').toString('base64');
    }
  };
  if (obj.kind === 'Secret') {
    put('data', true);
    put('stringData', false);
  } else {
    put('binaryData', true);
    put('data', false);
  }
  return out;
}

/** Reads every Secret and ConfigMap the pipeline refers to; fails naming a missing one. */
export async function resolvePipelineRefs(
  input: ResolveInput,
  read: ObjectReader,
): Promise<ResolvedRefs | undefined> {
  if (!needsStore(input.pipeline)) return undefined;
  const pipelineName = input.pipeline.metadata.name;
  const promise = (await read({ kind: 'Promise', name: input.promiseName })) as
    KratixPromise | undefined;
  const namespace = pipelineNamespace(promise, input.type, input.object);
  const cache = new Map<string, Record<string, string> | undefined>();
  const load = async (kind: 'Secret' | 'ConfigMap', name: string) => {
    const key = `${kind}/${name}`;
    if (!cache.has(key)) {
      const obj = await read({ kind, name, namespace });
      cache.set(key, obj ? entriesOf(obj) : undefined);
    }
    return cache.get(key);
  };
  const missing = (container: string, what: string): never => {
    throw new PipelineFailedError(
      pipelineName,
      container,
      `${what} not found in namespace "${namespace}" (the pipeline's namespace); apply it, or mark the reference optional`,
    );
  };

  const refs: ResolvedRefs = { namespace, env: {}, volumeFiles: {} };
  for (const container of input.pipeline.spec?.containers ?? []) {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      const kind = from.secretRef ? 'Secret' : 'ConfigMap';
      const ref = from.secretRef ?? from.configMapRef;
      if (!ref) continue;
      const data = await load(kind, ref.name);
      if (!data) {
        if (ref.optional) continue;
        missing(container.name, `${kind} "${ref.name}" (envFrom)`);
      }
      for (const [k, v] of Object.entries(data ?? {})) {
        env[`${from.prefix ?? ''}${k}`] = Buffer.from(v, 'base64').toString('utf8');
      }
    }
    for (const entry of container.env ?? []) {
      const from = entry.valueFrom;
      const ref = from?.secretKeyRef ?? from?.configMapKeyRef;
      if (!from || !ref) continue;
      const kind = from.secretKeyRef ? 'Secret' : 'ConfigMap';
      const value = (await load(kind, ref.name))?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        missing(container.name, `${kind} "${ref.name}" key "${ref.key}" (env ${entry.name})`);
      }
      env[entry.name] = Buffer.from(value ?? '', 'base64').toString('utf8');
    }
    refs.env[container.name] = env;
  }
  for (const volume of input.pipeline.spec?.volumes ?? []) {
    const kind = volume.secret ? 'Secret' : volume.configMap ? 'ConfigMap' : undefined;
    const source = volume.secret ?? volume.configMap;
    if (!kind || !source) continue;
    const name = volume.secret ? volume.secret.secretName : (volume.configMap?.name ?? '');
    const data = await load(kind, name);
    if (!data) {
      if (source.optional) {
        refs.volumeFiles[volume.name] = {};
        continue;
      }
      missing('<volume>', `${kind} "${name}" (volume ${volume.name})`);
    }
    const files: Record<string, string> = {};
    const items = source.items ?? Object.keys(data ?? {}).map((key) => ({ key, path: key }));
    for (const item of items) {
      const bytes = data?.[item.key];
      if (bytes === undefined)
        missing('<volume>', `${kind} "${name}" key "${item.key}" (volume ${volume.name})`);
      files[item.path] = bytes ?? '';
    }
    refs.volumeFiles[volume.name] = files;
  }
  return refs;
}

/**
 * A container's environment: the container's `envFrom`, then its `env` (values, and the
 * resolved `valueFrom`s), then the contract's KRATIX_* variables, which win over a
 * container's own of the same name.
 */
export function containerEnv(
  pipelineName: string,
  container: Container,
  request: PipelineRunRequest,
): Record<string, string> {
  const resolved = request.resolved?.env[container.name] ?? {};
  const env: Record<string, string> = {};
  const fromRefs = new Set<string>();
  for (const entry of container.env ?? []) if (entry.valueFrom) fromRefs.add(entry.name);
  // envFrom first: explicit env entries override keys of the same name, as in Kubernetes.
  for (const [k, v] of Object.entries(resolved)) if (!fromRefs.has(k)) env[k] = v;
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (!from) {
      env[entry.name] = entry.value ?? '';
      continue;
    }
    if (from.fieldRef || from.resourceFieldRef) {
      // These read the Pod's own fields, and there is no Pod here.
      throw new PipelineFailedError(
        pipelineName,
        container.name,
        `env "${entry.name}": valueFrom.${from.fieldRef ? 'fieldRef' : 'resourceFieldRef'} reads a Pod's fields; ` +
          'it is supported by the Kubernetes Job runner only',
      );
    }
    const value = resolved[entry.name];
    if (value !== undefined) env[entry.name] = value;
    else if (request.resolved === undefined) {
      throw new PipelineFailedError(
        pipelineName,
        container.name,
        `env "${entry.name}" uses valueFrom, but no Secrets or ConfigMaps were resolved for this run`,
      );
    }
  }
  return { ...env, ...kratixEnv(pipelineName, request) };
}
