/**
 * The Kubernetes objects that run one Pipeline on a cluster with nodes, built as Kratix's
 * `PipelineFactory` builds them (api/v1alpha1/pipeline_factory.go): a Job in the pipeline
 * namespace whose Pod has a `reader` init container that puts the object at
 * /kratix/input/object.yaml, one init container per Pipeline container (in order, each with
 * /kratix/input read-only, /kratix/output and /kratix/metadata, the KRATIX_* env first and
 * the container's own env after it, its envFrom, volumeMounts, pull policy, security context
 * and resources or Kratix's defaults), and a main container that hands the result back. The
 * Pipeline's `rbac` becomes a ServiceAccount, Roles and bindings as in Kratix, so a cluster
 * enforces it; `env.valueFrom` and every volume kind are left to the kubelet.
 *
 * Where Promiseflow differs from Kratix: Kratix's reader fetches the object from the API and
 * its work-writer/status-writer write Works and status through the API; here the object comes
 * in a ConfigMap (`<job>-input`) and the main container (`collect`) prints output/ and
 * metadata/ as a base64 tar on its log, which the worker reads back, so Works and status stay
 * the activities' business. Pure: builds manifests, talks to no cluster.
 */
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { LABELS } from '../model/labels';
import type {
  Container,
  KratixObject,
  KratixPromise,
  Pipeline,
  PipelinePermission,
} from '../model/types';
import { kratixEnv } from './contract';
import { pipelineNamespace } from './env';
import type { PipelineRunRequest } from './runner';

type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

export interface PipelineJobOptions {
  /** Image with sh, cp, tar and base64 for the reader and collect containers. */
  helperImage: string;
  /** The Promise, for `workflows.config.pipelineNamespace` and its destinationSelectors. */
  promise?: KratixPromise;
}

export interface PipelineJobManifests {
  /** Pipeline id, `<promise>-<type>-<action>-<pipeline>` (Kratix's ServiceAccount name). */
  id: string;
  namespace: string;
  job: Manifest;
  /** Everything to apply before the Job: input ConfigMap, ServiceAccount, RBAC. */
  objects: Manifest[];
}

/** Kratix's `DefaultResourceRequirements` for containers that name none. */
const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '128Mi' },
  limits: { cpu: '200m', memory: '256Mi', 'ephemeral-storage': '256Mi' },
};
/** Kratix's `kratixSecurityContext` for its own containers. */
const KRATIX_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
  privileged: false,
};
const HELPER_SECURITY_CONTEXT = { ...KRATIX_SECURITY_CONTEXT, runAsUser: 65534 };
const INPUT_VOLUME = 'promiseflow-input';

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 5);

/** `kratix-<promise>[-<resource>]-<pipeline>-<hash>`, at most 63 characters, as a Job name. */
function jobName(request: PipelineRunRequest, pipeline: Pipeline): string {
  const parts = ['kratix', request.promiseName];
  if (request.type === 'resource') parts.push(request.object.metadata.name);
  parts.push(pipeline.metadata.name);
  const suffix = shortHash(JSON.stringify([request.object, pipeline, request.action]));
  const base = parts
    .join('-')
    .slice(0, 63 - suffix.length - 1)
    .replace(/[-.]+$/, '');
  return `${base}-${suffix}`;
}

export function buildPipelineJob(
  request: PipelineRunRequest,
  options: PipelineJobOptions,
): PipelineJobManifests {
  const pipeline = request.pipeline;
  const pipelineName = pipeline.metadata.name;
  const id = `${request.promiseName}-${request.type}-${request.action}-${pipelineName}`;
  // As the activity resolved it (workflows.config.pipelineNamespace included), when it did.
  const namespace =
    request.resolved?.namespace ?? pipelineNamespace(options.promise, request.type, request.object);
  const name = jobName(request, pipeline);
  const labels: Record<string, string> = {
    [LABELS.promiseName]: request.promiseName,
    'kratix.io/workflow-type': request.type,
    'kratix.io/workflow-action': request.action,
    [LABELS.pipelineName]: pipelineName,
    'app.kubernetes.io/managed-by': 'Kratix',
    ...(request.type === 'resource' ? { [LABELS.resourceName]: request.object.metadata.name } : {}),
  };
  const spec = pipeline.spec ?? { containers: [] };
  const serviceAccount = spec.rbac?.serviceAccount || id;
  const kratixVars = Object.entries(kratixEnv(pipelineName, request)).map(([n, value]) => ({
    name: n,
    value,
  }));
  const defaultMounts = [
    { name: 'shared-input', mountPath: '/kratix/input', readOnly: true },
    { name: 'shared-output', mountPath: '/kratix/output' },
    { name: 'shared-metadata', mountPath: '/kratix/metadata' },
  ];

  const pipelineContainers = spec.containers.map((c: Container) => ({
    name: c.name,
    image: c.image,
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
    // Kratix appends the container's env after its own, so the container's wins.
    env: [...kratixVars, ...(c.env ?? [])],
    ...(c.envFrom ? { envFrom: c.envFrom } : {}),
    volumeMounts: [...defaultMounts, ...(c.volumeMounts ?? [])],
    ...(c.imagePullPolicy ? { imagePullPolicy: c.imagePullPolicy } : {}),
    ...(c.securityContext ? { securityContext: c.securityContext } : {}),
    resources: c.resources ?? DEFAULT_RESOURCES,
  }));
  const reader = {
    name: 'reader',
    image: options.helperImage,
    command: ['sh', '-c', `cp /promiseflow-input/object.yaml /kratix/input/object.yaml`],
    env: kratixVars,
    volumeMounts: [
      { name: 'shared-input', mountPath: '/kratix/input' },
      { name: INPUT_VOLUME, mountPath: '/promiseflow-input', readOnly: true },
    ],
    securityContext: HELPER_SECURITY_CONTEXT,
    resources: DEFAULT_RESOURCES,
  };
  const collect = {
    name: 'collect',
    image: options.helperImage,
    command: ['sh', '-c', 'cd /kratix && tar -cf - output metadata | base64'],
    volumeMounts: [
      { name: 'shared-output', mountPath: '/kratix/output', readOnly: true },
      { name: 'shared-metadata', mountPath: '/kratix/metadata', readOnly: true },
    ],
    securityContext: HELPER_SECURITY_CONTEXT,
    resources: DEFAULT_RESOURCES,
  };
  const volumes: Record<string, unknown>[] = [
    { name: 'shared-input', emptyDir: {} },
    { name: 'shared-output', emptyDir: {} },
    { name: 'shared-metadata', emptyDir: {} },
    { name: INPUT_VOLUME, configMap: { name: `${name}-input` } },
  ];
  const objects: Manifest[] = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-input`, namespace, labels },
      data: { 'object.yaml': YAML.stringify(request.object) },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: serviceAccount,
        namespace,
        labels: { [LABELS.promiseName]: request.promiseName },
      },
    },
  ];
  if (request.action === 'configure') {
    const selectors = (options.promise?.spec?.destinationSelectors ?? []).map((s) => ({
      matchlabels: s.matchLabels ?? {},
      source: 'promise',
    }));
    const cmName = `destination-selectors-${request.promiseName}`;
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: cmName, namespace, labels: { [LABELS.promiseName]: request.promiseName } },
      data: { destinationSelectors: YAML.stringify(selectors) },
    });
    volumes.push({
      name: 'promise-scheduling',
      configMap: {
        name: cmName,
        items: [{ key: 'destinationSelectors', path: 'promise-scheduling' }],
      },
    });
  }
  volumes.push(...((spec.volumes ?? []) as Record<string, unknown>[]));
  objects.push(
    ...rbacObjects(
      id,
      namespace,
      serviceAccount,
      request.promiseName,
      spec.rbac?.permissions ?? [],
    ),
  );

  const podLabels = { ...labels, ...(pipeline.metadata.labels ?? {}) };
  const job: Manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels: podLabels },
    spec: {
      ...(spec.jobOptions?.backoffLimit !== undefined
        ? { backoffLimit: spec.jobOptions.backoffLimit }
        : {}),
      template: {
        metadata: {
          labels: podLabels,
          ...(pipeline.metadata.annotations ? { annotations: pipeline.metadata.annotations } : {}),
        },
        spec: {
          serviceAccountName: serviceAccount,
          restartPolicy: spec.restartPolicy ?? 'OnFailure',
          initContainers: [reader, ...pipelineContainers],
          containers: [collect],
          volumes,
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
          ...(spec.imagePullSecrets ? { imagePullSecrets: spec.imagePullSecrets } : {}),
        },
      },
    },
  };
  return { id, namespace, job, objects };
}

/**
 * `rbac.permissions` as Kratix grants them: rules without `resourceNamespace` in a Role of the
 * pipeline namespace; with one, a ClusterRole bound in that namespace (or cluster-wide for `*`).
 */
function rbacObjects(
  id: string,
  namespace: string,
  serviceAccount: string,
  promiseName: string,
  permissions: PipelinePermission[],
): Manifest[] {
  const labels = { [LABELS.promiseName]: promiseName };
  const subject = { kind: 'ServiceAccount', name: serviceAccount, namespace };
  const rule = (p: PipelinePermission) => {
    const { resourceNamespace: _ns, ...policyRule } = p;
    return policyRule;
  };
  const out: Manifest[] = [];
  const local = permissions.filter((p) => !p.resourceNamespace);
  if (local.length > 0) {
    out.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: id, namespace, labels },
        rules: local.map(rule),
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: id, namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: id },
        subjects: [subject],
      },
    );
  }
  const byNamespace = new Map<string, PipelinePermission[]>();
  for (const p of permissions) {
    if (p.resourceNamespace)
      byNamespace.set(p.resourceNamespace, [...(byNamespace.get(p.resourceNamespace) ?? []), p]);
  }
  for (const [ns, rules] of byNamespace) {
    const roleName = `${id}-${ns === '*' ? 'kratix-all-namespaces' : ns}`.slice(0, 253);
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: roleName, labels },
      rules: rules.map(rule),
    });
    const binding = {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects: [subject],
    };
    out.push(
      ns === '*'
        ? {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: roleName, labels },
            ...binding,
          }
        : {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: `${id}-${namespace}`, namespace: ns, labels },
            ...binding,
          },
    );
  }
  return out;
}

/** Reads the `collect` container's log (a base64 tar of output/ and metadata/) back. */
export function decodeCollectedLog(log: string): Buffer {
  return Buffer.from(log.replace(/\s+/g, ''), 'base64');
}

export type { KratixObject };
