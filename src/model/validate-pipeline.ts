/**
 * One Kratix `Pipeline` (api/v1alpha1/pipeline_types.go), checked as strictly as Kratix
 * decodes it (unknown fields refused, as its `DisallowUnknownFields` does) and as the
 * Kubernetes API server would check the Job Kratix builds from it (volume mounts name a
 * volume, mount paths unique, policies from Kubernetes' lists). Pure.
 */
import {
  at,
  dnsLabel,
  fail,
  isMap,
  knownKeys,
  list,
  map,
  objectName,
  oneOf,
  optBool,
  optList,
  optMap,
  optOneOf,
  optStr,
  str,
  stringMap,
  typeName,
  type Json,
  type Where,
} from './field-checks';

/** The volumes Kratix gives every pipeline Job (`defaultPipelineVolumes`, `defaultVolumes`). */
export const KRATIX_VOLUMES = {
  'shared-input': '/kratix/input',
  'shared-output': '/kratix/output',
  'shared-metadata': '/kratix/metadata',
  /** The Promise's destinationSelectors, as a ConfigMap (configure pipelines only). */
  'promise-scheduling': undefined,
} as const;

const PIPELINE_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'] as const;
const SPEC_KEYS = [
  'containers',
  'imagePullSecrets',
  'jobOptions',
  'nodeSelector',
  'rbac',
  'restartPolicy',
  'tolerations',
  'volumes',
] as const;
const CONTAINER_KEYS = [
  'name',
  'image',
  'args',
  'command',
  'env',
  'envFrom',
  'volumeMounts',
  'imagePullPolicy',
  'securityContext',
  'resources',
] as const;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
const ENV_SOURCES = ['secretKeyRef', 'configMapKeyRef', 'fieldRef', 'resourceFieldRef'] as const;
const POLICY_RULE_KEYS = [
  'resourceNamespace',
  'apiGroups',
  'resources',
  'verbs',
  'resourceNames',
  'nonResourceURLs',
] as const;

export function validatePipeline(w: Where, pipeline: Json, field: string): void {
  knownKeys(w, pipeline, field, PIPELINE_KEYS);
  const spec = map(w, pipeline.spec, `${field}.spec`);
  knownKeys(w, spec, `${field}.spec`, SPEC_KEYS);
  const sField = `${field}.spec`;

  const volumes = new Set<string>(Object.keys(KRATIX_VOLUMES));
  optList(w, spec.volumes, `${sField}.volumes`).forEach((v, i) => {
    const vField = `${sField}.volumes[${i}]`;
    const volume = map(w, v, vField);
    const name = dnsLabel(w, volume.name, `${vField}.name`);
    if (volumes.has(name)) {
      fail(
        w,
        `${vField}.name`,
        'a volume name unique in the Job (Kratix adds shared-input, shared-output, shared-metadata, promise-scheduling)',
        name,
      );
    }
    volumes.add(name);
    const sources = Object.keys(volume).filter((k) => k !== 'name');
    if (sources.length !== 1) {
      fail(
        w,
        vField,
        'exactly one volume source (emptyDir, configMap, secret, …)',
        sources.length === 0 ? 'none' : sources.join(', '),
      );
    }
    const source = volume[sources[0]!];
    if (source !== null && !isMap(source))
      fail(w, at(vField, sources[0]!), 'object', typeName(source));
    if (isMap(volume.secret)) str(w, volume.secret.secretName, `${vField}.secret.secretName`);
    if (isMap(volume.configMap)) str(w, volume.configMap.name, `${vField}.configMap.name`);
  });

  const containers = list(w, spec.containers, `${sField}.containers`);
  if (containers.length === 0) {
    fail(w, `${sField}.containers`, 'at least one container', 'empty list');
  }
  const containerNames = new Set<string>();
  containers.forEach((c, j) => {
    const cField = `${sField}.containers[${j}]`;
    const container = map(w, c, cField);
    knownKeys(w, container, cField, CONTAINER_KEYS);
    // Kubernetes container names are DNS-1123 labels: no dots, at most 63 characters.
    const cName = dnsLabel(w, container.name, `${cField}.name`);
    // Kratix's own containers in the same Pod.
    if (containerNames.has(cName) || ['reader', 'work-writer', 'status-writer'].includes(cName)) {
      fail(
        w,
        `${cField}.name`,
        'a name unique in its Pipeline (Kratix adds reader, work-writer and status-writer)',
        cName,
      );
    }
    containerNames.add(cName);
    str(w, container.image, `${cField}.image`);
    for (const key of ['command', 'args'] as const) {
      optList(w, container[key], `${cField}.${key}`).forEach((arg, k) => {
        if (typeof arg !== 'string') fail(w, `${cField}.${key}[${k}]`, 'string', typeName(arg));
      });
    }
    optOneOf(w, container.imagePullPolicy, `${cField}.imagePullPolicy`, PULL_POLICIES);
    optMap(w, container.securityContext, `${cField}.securityContext`);
    optMap(w, container.resources, `${cField}.resources`);
    validateEnv(w, container, cField);
    validateVolumeMounts(w, container, cField, volumes);
  });

  optList(w, spec.imagePullSecrets, `${sField}.imagePullSecrets`).forEach((s, i) => {
    const ref = map(w, s, `${sField}.imagePullSecrets[${i}]`);
    objectName(w, ref.name, `${sField}.imagePullSecrets[${i}].name`);
  });
  const jobOptions = optMap(w, spec.jobOptions, `${sField}.jobOptions`);
  if (jobOptions) {
    knownKeys(w, jobOptions, `${sField}.jobOptions`, ['backoffLimit']);
    const limit = jobOptions.backoffLimit;
    if (limit !== undefined && (!Number.isInteger(limit) || (limit as number) < 0)) {
      fail(w, `${sField}.jobOptions.backoffLimit`, 'an integer of at least 0', String(limit));
    }
  }
  if (spec.nodeSelector !== undefined) stringMap(w, spec.nodeSelector, `${sField}.nodeSelector`);
  // A Job's Pod may only restart OnFailure or Never.
  optOneOf(w, spec.restartPolicy, `${sField}.restartPolicy`, ['OnFailure', 'Never']);
  optList(w, spec.tolerations, `${sField}.tolerations`).forEach((t, i) => {
    const tField = `${sField}.tolerations[${i}]`;
    knownKeys(w, map(w, t, tField), tField, [
      'key',
      'operator',
      'value',
      'effect',
      'tolerationSeconds',
    ]);
  });
  validateRbac(w, spec.rbac, `${sField}.rbac`);
}

function validateEnv(w: Where, container: Json, cField: string): void {
  const names = new Set<string>();
  optList(w, container.env, `${cField}.env`).forEach((e, k) => {
    const eField = `${cField}.env[${k}]`;
    const env = map(w, e, eField);
    knownKeys(w, env, eField, ['name', 'value', 'valueFrom']);
    names.add(str(w, env.name, `${eField}.name`));
    optStr(w, env.value, `${eField}.value`);
    const from = optMap(w, env.valueFrom, `${eField}.valueFrom`);
    if (!from) return;
    if (env.value !== undefined && env.value !== '') {
      fail(
        w,
        `${eField}.valueFrom`,
        'no valueFrom when value is set (Kubernetes takes one or the other)',
        'both',
      );
    }
    const sources = Object.keys(from);
    if (sources.length !== 1) {
      fail(
        w,
        `${eField}.valueFrom`,
        `exactly one of ${ENV_SOURCES.join(', ')}`,
        sources.join(', ') || 'none',
      );
    }
    const source = oneOf(w, sources[0], `${eField}.valueFrom`, ENV_SOURCES);
    const sField = `${eField}.valueFrom.${source}`;
    const ref = map(w, from[source], sField);
    if (source === 'secretKeyRef' || source === 'configMapKeyRef') {
      knownKeys(w, ref, sField, ['name', 'key', 'optional']);
      objectName(w, ref.name, `${sField}.name`);
      str(w, ref.key, `${sField}.key`);
      optBool(w, ref.optional, `${sField}.optional`);
    } else if (source === 'fieldRef') {
      knownKeys(w, ref, sField, ['fieldPath', 'apiVersion']);
      str(w, ref.fieldPath, `${sField}.fieldPath`);
    } else {
      knownKeys(w, ref, sField, ['resource', 'containerName', 'divisor']);
      str(w, ref.resource, `${sField}.resource`);
    }
  });
  optList(w, container.envFrom, `${cField}.envFrom`).forEach((e, k) => {
    const eField = `${cField}.envFrom[${k}]`;
    const env = map(w, e, eField);
    knownKeys(w, env, eField, ['prefix', 'secretRef', 'configMapRef']);
    optStr(w, env.prefix, `${eField}.prefix`);
    const refs = ['secretRef', 'configMapRef'].filter((r) => env[r] !== undefined);
    if (refs.length !== 1) {
      fail(w, eField, 'exactly one of secretRef, configMapRef', refs.join(', ') || 'none');
    }
    const rField = `${eField}.${refs[0]!}`;
    const ref = map(w, env[refs[0]!], rField);
    knownKeys(w, ref, rField, ['name', 'optional']);
    objectName(w, ref.name, `${rField}.name`);
    optBool(w, ref.optional, `${rField}.optional`);
  });
}

function validateVolumeMounts(
  w: Where,
  container: Json,
  cField: string,
  volumes: Set<string>,
): void {
  // Kratix mounts these into every pipeline container; Kubernetes refuses a second mount there.
  const paths = new Set<string>(['/kratix/input', '/kratix/output', '/kratix/metadata']);
  optList(w, container.volumeMounts, `${cField}.volumeMounts`).forEach((m, k) => {
    const mField = `${cField}.volumeMounts[${k}]`;
    const mount = map(w, m, mField);
    knownKeys(w, mount, mField, [
      'name',
      'mountPath',
      'readOnly',
      'subPath',
      'subPathExpr',
      'mountPropagation',
      'recursiveReadOnly',
    ]);
    const name = str(w, mount.name, `${mField}.name`);
    if (!volumes.has(name)) {
      fail(
        w,
        `${mField}.name`,
        `a volume of the Pipeline (one of ${[...volumes].join(', ')})`,
        name,
      );
    }
    const mountPath = str(w, mount.mountPath, `${mField}.mountPath`);
    const normal = mountPath.replace(/\/+$/, '');
    if (!mountPath.startsWith('/') || normal.split('/').includes('..')) {
      fail(w, `${mField}.mountPath`, 'an absolute path without ".."', mountPath);
    }
    if (paths.has(normal)) {
      fail(
        w,
        `${mField}.mountPath`,
        'a path no other volume is mounted at (Kratix mounts /kratix/input, /kratix/output and /kratix/metadata)',
        mountPath,
      );
    }
    paths.add(normal);
    optBool(w, mount.readOnly, `${mField}.readOnly`);
    const subPath = optStr(w, mount.subPath, `${mField}.subPath`);
    if (subPath !== undefined && (subPath.startsWith('/') || subPath.split('/').includes('..'))) {
      fail(w, `${mField}.subPath`, 'a relative path without ".."', subPath);
    }
  });
}

function validateRbac(w: Where, value: unknown, field: string): void {
  const rbac = optMap(w, value, field);
  if (!rbac) return;
  knownKeys(w, rbac, field, ['serviceAccount', 'permissions']);
  if (rbac.serviceAccount !== undefined && rbac.serviceAccount !== '') {
    objectName(w, rbac.serviceAccount, `${field}.serviceAccount`);
  }
  optList(w, rbac.permissions, `${field}.permissions`).forEach((p, i) => {
    const pField = `${field}.permissions[${i}]`;
    const rule = map(w, p, pField);
    knownKeys(w, rule, pField, POLICY_RULE_KEYS);
    const ns = optStr(w, rule.resourceNamespace, `${pField}.resourceNamespace`);
    if (ns !== undefined && ns !== '' && ns !== '*') dnsLabel(w, ns, `${pField}.resourceNamespace`);
    for (const key of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']) {
      optList(w, rule[key], `${pField}.${key}`).forEach((s, k) => {
        if (typeof s !== 'string') fail(w, `${pField}.${key}[${k}]`, 'string', typeName(s));
      });
    }
    // Kubernetes' PolicyRule requires verbs.
    if (!Array.isArray(rule.verbs) || rule.verbs.length === 0) {
      fail(
        w,
        `${pField}.verbs`,
        'at least one verb (get, list, create, …, or *)',
        typeName(rule.verbs),
      );
    }
  });
}
