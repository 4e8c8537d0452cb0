/**
 * Kratix's API on a cluster: the platform.kratix.io/v1alpha1 CRDs with the status
 * subresource, short names and printer columns Kratix users know, the namespace Kratix
 * keeps its own objects in, and an admission policy refusing to delete the latest
 * PromiseRevision (Kratix does that in a webhook; a ValidatingAdmissionPolicy needs no
 * server of ours). Applied by the bridge with server-side apply, so it is idempotent.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { LABELS } from '../../model/labels';
import { PLATFORM_GROUP, SYSTEM_NAMESPACE } from '../../model/types';
import { LATEST_REVISION_DELETE_REFUSED } from '../../model/revisions';
import { toKubeApiError, typedModel } from './object-api';

const FIELD_MANAGER = 'promiseflow';
const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const ready = (name = 'Ready') => ({
  name,
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
});
const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

interface CrdShape {
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  columns: object[];
  /** Structure the API server checks at `kubectl apply`; the rest is kept as written. */
  spec?: object;
}

const SHAPES: CrdShape[] = [
  {
    kind: 'Promise',
    plural: 'promises',
    namespaced: false,
    columns: [
      { name: 'Status', type: 'string', jsonPath: '.status.status' },
      { name: 'Kind', type: 'string', jsonPath: '.status.kind' },
      { name: 'API Version', type: 'string', jsonPath: '.status.apiVersion' },
      { name: 'Version', type: 'string', jsonPath: '.status.version' },
      { name: 'Message', type: 'string', priority: 1, jsonPath: '.status.message' },
      age,
    ],
  },
  {
    kind: 'PromiseRevision',
    plural: 'promiserevisions',
    namespaced: false,
    // `kubectl get promiserevisions` shows NAME and LATEST, as Kratix's documentation does.
    columns: [
      { name: 'Latest', type: 'boolean', jsonPath: '.status.latest' },
      { name: 'Promise', type: 'string', priority: 1, jsonPath: '.spec.promiseRef.name' },
      { name: 'Version', type: 'string', priority: 1, jsonPath: '.spec.version' },
    ],
  },
  {
    kind: 'ResourceBinding',
    plural: 'resourcebindings',
    namespaced: true,
    columns: [
      { name: 'Resource', type: 'string', jsonPath: '.spec.resourceRef.name' },
      { name: 'Promise', type: 'string', jsonPath: '.spec.promiseRef.name' },
      { name: 'Desired', type: 'string', jsonPath: '.spec.version' },
      { name: 'Applied', type: 'string', jsonPath: '.status.lastAppliedVersion' },
    ],
  },
  {
    kind: 'Destination',
    plural: 'destinations',
    namespaced: false,
    shortNames: ['dest', 'dests'],
    columns: [
      { name: 'StateStoreKind', type: 'string', jsonPath: '.spec.stateStoreRef.kind' },
      { name: 'StateStoreName', type: 'string', jsonPath: '.spec.stateStoreRef.name' },
      ready(),
      age,
    ],
    spec: {
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
    },
  },
  {
    kind: 'GitStateStore',
    plural: 'gitstatestores',
    namespaced: false,
    columns: [
      { name: 'URL', type: 'string', jsonPath: '.spec.url' },
      { name: 'Branch', type: 'string', jsonPath: '.spec.branch' },
      ready(),
      age,
    ],
  },
  {
    kind: 'BucketStateStore',
    plural: 'bucketstatestores',
    namespaced: false,
    columns: [
      { name: 'Bucket', type: 'string', jsonPath: '.spec.bucketName' },
      { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint' },
      ready(),
      age,
    ],
  },
  {
    kind: 'Work',
    plural: 'works',
    namespaced: true,
    columns: [
      {
        name: 'Scheduled',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Scheduled")].status',
      },
      age,
    ],
  },
  {
    kind: 'WorkPlacement',
    plural: 'workplacements',
    namespaced: true,
    shortNames: ['wp', 'wps'],
    columns: [
      { name: 'Destination', type: 'string', jsonPath: '.spec.targetDestinationName' },
      {
        name: 'Status',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Ready")].message',
      },
      age,
    ],
  },
];

function crdOf(shape: CrdShape): object {
  const singular = shape.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${shape.plural}.${PLATFORM_GROUP}` },
    spec: {
      group: PLATFORM_GROUP,
      scope: shape.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: shape.kind,
        listKind: `${shape.kind}List`,
        plural: shape.plural,
        singular,
        categories: ['kratix'],
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
  for (const manifest of platformManifests()) {
    try {
      await api.patch(
        typedModel<KubernetesObject>(manifest),
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      const e = toKubeApiError(err);
      const m = manifest as { kind: string; metadata: { name: string } };
      throw new Error(
        `cannot install ${m.kind} "${m.metadata.name}": ${(e as Error).message ?? String(e)}`,
      );
    }
  }
}
