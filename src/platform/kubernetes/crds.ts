/**
 * Kratix's API on a cluster: the platform.kratix.io/v1alpha1 CRDs with the status
 * subresource, short names and printer columns Kratix users know, the namespace Kratix
 * keeps its own objects in, and an admission policy refusing to delete the latest
 * PromiseRevision (Kratix does that in a webhook; a ValidatingAdmissionPolicy needs no
 * server of ours). Applied by the bridge with server-side apply, so it is idempotent.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { LABELS } from '../../model/labels';
import { PLATFORM_GROUP, SYSTEM_NAMESPACE } from '../../model/types';
import { LATEST_REVISION_DELETE_REFUSED } from '../../model/revisions';
import { ROLLOUT_GROUP } from '../../model/rollout';
import { serverSideApply } from './object-api';

const FIELD_MANAGER = 'promiseflow';
const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
/** A printer column: header and JSONPath; a string unless said, `wide` for `-o wide` only. */
function col(name: string, jsonPath: string, more: { type?: string; wide?: boolean } = {}) {
  return { name, type: more.type ?? 'string', ...(more.wide ? { priority: 1 } : {}), jsonPath };
}
/** A column showing one condition's status (or another of its fields). */
function conditionCol(name: string, type: string, field = 'status') {
  return col(name, `.status.conditions[?(@.type=="${type}")].${field}`);
}
const ready = conditionCol('Ready', 'Ready');
const age = col('Age', '.metadata.creationTimestamp', { type: 'date' });

interface CrdShape {
  /** platform.kratix.io unless said (Promiseflow's own kinds live in promiseflow.io). */
  group?: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  columns: object[];
  /** Structure the API server checks at `kubectl apply`; the rest is kept as written. */
  spec?: object;
}

/** What `kubectl apply` of a Destination is refused for by the API server itself. */
const DESTINATION_SPEC = {
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  required: ['stateStoreRef'],
  properties: {
    path: { type: 'string' },
    strictMatchLabels: { type: 'boolean' },
    stateStoreRef: {
      type: 'object',
      required: ['kind', 'name'],
      properties: {
        kind: { type: 'string', enum: ['GitStateStore', 'BucketStateStore'] },
        name: { type: 'string' },
      },
    },
  },
};

const cluster = (kind: string, plural: string, columns: object[]): CrdShape => ({
  kind,
  plural,
  namespaced: false,
  columns,
});
const namespaced = (kind: string, plural: string, columns: object[]): CrdShape => ({
  kind,
  plural,
  namespaced: true,
  columns,
});

const SHAPES: CrdShape[] = [
  cluster('Promise', 'promises', [
    col('Status', '.status.status'),
    col('Kind', '.status.kind'),
    col('API Version', '.status.apiVersion'),
    col('Version', '.status.version'),
    col('Message', '.status.message', { wide: true }),
    age,
  ]),
  // `kubectl get promiserevisions` shows NAME and LATEST, as Kratix's documentation does.
  cluster('PromiseRevision', 'promiserevisions', [
    col('Latest', '.status.latest', { type: 'boolean' }),
    col('Promise', '.spec.promiseRef.name', { wide: true }),
    col('Version', '.spec.version', { wide: true }),
  ]),
  namespaced('ResourceBinding', 'resourcebindings', [
    col('Resource', '.spec.resourceRef.name'),
    col('Promise', '.spec.promiseRef.name'),
    col('Desired', '.spec.version'),
    col('Applied', '.status.lastAppliedVersion'),
  ]),
  {
    ...cluster('Destination', 'destinations', [
      col('StateStoreKind', '.spec.stateStoreRef.kind'),
      col('StateStoreName', '.spec.stateStoreRef.name'),
      ready,
      age,
    ]),
    shortNames: ['dest', 'dests'],
    spec: DESTINATION_SPEC,
  },
  cluster('GitStateStore', 'gitstatestores', [
    col('URL', '.spec.url'),
    col('Branch', '.spec.branch'),
    ready,
    age,
  ]),
  cluster('BucketStateStore', 'bucketstatestores', [
    col('Bucket', '.spec.bucketName'),
    col('Endpoint', '.spec.endpoint'),
    ready,
    age,
  ]),
  namespaced('Work', 'works', [conditionCol('Scheduled', 'Scheduled'), age]),
  {
    ...namespaced('WorkPlacement', 'workplacements', [
      col('Destination', '.spec.targetDestinationName'),
      conditionCol('Status', 'Ready', 'message'),
      age,
    ]),
    shortNames: ['wp', 'wps'],
  },
  // Promiseflow's own API: how a Promise update moves its fleet (model/rollout.ts).
  {
    ...cluster('RolloutPolicy', 'rolloutpolicies', [
      col('Promises', '.spec.promiseNames', { wide: true }),
      col('Batch', '.spec.batchSize'),
      col('MaxFailures', '.spec.maxFailures'),
      col('OnFailure', '.spec.onFailure'),
      age,
    ]),
    group: ROLLOUT_GROUP,
    shortNames: ['rp'],
  },
];

function crdOf(shape: CrdShape): object {
  const singular = shape.kind.toLowerCase();
  const group = shape.group ?? PLATFORM_GROUP;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${shape.plural}.${group}` },
    spec: {
      group,
      scope: shape.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: shape.kind,
        listKind: `${shape.kind}List`,
        plural: shape.plural,
        singular,
        categories: [group === PLATFORM_GROUP ? 'kratix' : 'promiseflow'],
        ...(shape.shortNames ? { shortNames: shape.shortNames } : {}),
      },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: shape.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: shape.spec ?? open, status: open },
            },
          },
        },
      ],
    },
  };
}

const LATEST_POLICY = 'promiseflow-latest-promiserevision';

/** Everything the bridge installs, in order (CRDs before what uses them). */
export function platformManifests(): object[] {
  const latest = LABELS.latestRevision;
  return [
    ...SHAPES.map(crdOf),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: LATEST_POLICY },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [PLATFORM_GROUP],
              apiVersions: ['*'],
              operations: ['DELETE'],
              resources: ['promiserevisions'],
            },
          ],
        },
        validations: [
          {
            expression:
              `!has(oldObject.metadata.labels) || !('${latest}' in oldObject.metadata.labels)` +
              ` || oldObject.metadata.labels['${latest}'] != 'true'`,
            message: `${LATEST_REVISION_DELETE_REFUSED}; delete the Promise instead`,
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: LATEST_POLICY },
      spec: { policyName: LATEST_POLICY, validationActions: ['Deny'] },
    },
  ];
}

/** Server-side applies the platform's API; safe to run on every bridge start. */
export async function installPlatformApi(kubeConfig: KubeConfig): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const manifest of platformManifests()) await serverSideApply(api, manifest, FIELD_MANAGER);
}
