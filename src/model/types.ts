/**
 * The Kratix domain as plain data. Objects keep Kratix's YAML shape unchanged so that
 * files from the Kratix marketplace load as they are and round-trip through every store.
 */

export const PLATFORM_API_VERSION = 'platform.kratix.io/v1alpha1';
export const PLATFORM_GROUP = 'platform.kratix.io';
/** Namespace Kratix keeps its own namespaced objects (WorkPlacements) in. */
export const SYSTEM_NAMESPACE = 'kratix-platform-system';
export const DEFAULT_NAMESPACE = 'default';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Bumped by the platform store each time `spec` changes. */
  generation?: number;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  [key: string]: unknown;
}

export interface KratixObject<Spec = Record<string, unknown>, Status = Record<string, unknown>> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
  [key: string]: unknown;
}

/** A Kubernetes-style label selector as Kratix uses it (`matchLabels` only). */
export interface DestinationSelector {
  matchLabels?: Record<string, string>;
  /** Only in `/kratix/metadata/destination-selectors.yaml`: the output sub-directory it routes. */
  directory?: string;
}

/** `env[].valueFrom` as Kubernetes defines it; Secrets and ConfigMaps are resolved at run time. */
export interface EnvVarSource {
  secretKeyRef?: { name: string; key: string; optional?: boolean };
  configMapKeyRef?: { name: string; key: string; optional?: boolean };
  fieldRef?: { fieldPath: string; apiVersion?: string };
  resourceFieldRef?: { resource: string; containerName?: string; divisor?: string | number };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

/** `envFrom[]`: every key of a Secret or ConfigMap, optionally prefixed. */
export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

/** A Pod volume; the runners understand the kinds named here (others are refused by name). */
export interface Volume {
  name: string;
  emptyDir?: Record<string, unknown>;
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean };
  secret?: { secretName: string; items?: { key: string; path: string }[]; optional?: boolean };
  [source: string]: unknown;
}

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Kratix's Pipeline container (api/v1alpha1 Container): a subset of a Kubernetes container. */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  volumeMounts?: VolumeMount[];
  imagePullPolicy?: ImagePullPolicy;
  securityContext?: Record<string, unknown>;
  resources?: Record<string, unknown>;
  [key: string]: unknown;
}

/** `rbac.permissions[]`: a PolicyRule, in the pipeline's namespace or `resourceNamespace`. */
export interface PipelinePermission {
  resourceNamespace?: string;
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface PipelineSpec {
  containers: Container[];
  imagePullSecrets?: { name: string }[];
  jobOptions?: { backoffLimit?: number };
  nodeSelector?: Record<string, string>;
  rbac?: { serviceAccount?: string; permissions?: PipelinePermission[] };
  restartPolicy?: 'OnFailure' | 'Never';
  tolerations?: Record<string, unknown>[];
  volumes?: Volume[];
  [key: string]: unknown;
}

export type Pipeline = KratixObject<PipelineSpec>;

export interface WorkflowsByAction {
  configure?: Pipeline[];
  delete?: Pipeline[];
}

/** `spec.workflows.config`. */
export interface WorkflowConfig {
  /** Namespace every pipeline of the Promise runs in (Jobs, Secrets they read). */
  pipelineNamespace?: string;
  /** Go duration, at least 1m (Kratix's periodic re-run interval). */
  reconciliationInterval?: string;
}

export interface PromiseSpec {
  /** A CRD; `{}` and null mean no API, as in Kratix. */
  api?: KratixObject | Record<string, never> | null;
  workflows?: {
    config?: WorkflowConfig | null;
    promise?: WorkflowsByAction;
    resource?: WorkflowsByAction;
  };
  dependencies?: KratixObject[];
  destinationSelectors?: DestinationSelector[];
  requiredPromises?: { name: string; version?: string }[];
  [key: string]: unknown;
}

export type KratixPromise = KratixObject<PromiseSpec>;

export interface PromiseRevisionSpec {
  promiseRef: { name: string };
  promiseSpec: PromiseSpec;
  version: string;
}

export type PromiseRevision = KratixObject<PromiseRevisionSpec>;

export interface ResourceBindingSpec {
  promiseRef: { name: string };
  resourceRef: { name: string; namespace: string };
  /** `latest` follows the latest PromiseRevision; anything else pins an exact version. */
  version: string;
}

export type ResourceBinding = KratixObject<ResourceBindingSpec>;

export type FilepathMode = 'nestedByMetadata' | 'aggregatedYAML' | 'none';

export interface DestinationSpec {
  path: string;
  stateStoreRef: { kind: 'GitStateStore' | 'BucketStateStore'; name: string };
  strictMatchLabels?: boolean;
  filepath?: { mode?: FilepathMode; filename?: string };
  [key: string]: unknown;
}

export type Destination = KratixObject<DestinationSpec>;

export interface SecretRef {
  name: string;
  namespace?: string;
}

export interface GitStateStoreSpec {
  url: string;
  branch?: string;
  path?: string;
  gitAuthor?: { name?: string; email?: string };
  secretRef?: SecretRef;
  authMethod?: 'basicAuth' | 'ssh';
  [key: string]: unknown;
}

export interface BucketStateStoreSpec {
  bucketName: string;
  endpoint: string;
  insecure?: boolean;
  path?: string;
  secretRef?: SecretRef;
  authMethod?: 'accessKey' | 'IAM';
  [key: string]: unknown;
}

export type GitStateStore = KratixObject<GitStateStoreSpec>;
export type BucketStateStore = KratixObject<BucketStateStoreSpec>;
export type StateStore = GitStateStore | BucketStateStore;

/** A Kubernetes Secret: `stringData` or base64 `data`. */
export interface Secret extends KratixObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface Workload {
  /** Path relative to the workload group's directory. */
  filepath: string;
  /** The file as text when it is valid UTF-8 (so Works stay readable), else base64. */
  content: string;
  /** Set only for files that are not valid UTF-8: `content` is their bytes in base64. */
  encoding?: 'base64';
}

/** A file for a state store: text (written as UTF-8) or bytes (written as they are). */
export interface PlannedFile {
  path: string;
  content: string | Uint8Array;
}

/** What a write does to a state store, every path relative to the store's root. */
export interface FileChanges {
  /** After the write each `dir` holds exactly `files` (paths relative to `dir`). */
  replaceDirs?: { dir: string; files: PlannedFile[] }[];
  /** Files to create or overwrite. */
  writeFiles?: PlannedFile[];
  /** Files or directories to remove; missing ones are ignored. */
  deletePaths?: string[];
}

export interface WorkloadGroup {
  /** First 5 hex chars of md5(directory); `.` (the output root) gives `5058f`. */
  id: string;
  directory: string;
  /** Selectors from the Promise (`promise`) and from the workflow's metadata (`resource`). */
  destinationSelectors: { promise: DestinationSelector[]; resource: DestinationSelector[] };
  workloads: Workload[];
  /** sha256 over the workloads, so writers and placements can skip identical output. */
  digest: string;
}

export type WorkSource = 'dependencies' | 'promise' | 'resource';

export interface WorkSpec {
  source: WorkSource;
  promiseName: string;
  pipelineName: string;
  resourceName?: string;
  resourceNamespace?: string;
  /** A resource's work goes to one Destination; dependencies go to every match. */
  replicas: 'one' | 'all';
  workloadGroups: WorkloadGroup[];
}

export type Work = KratixObject<WorkSpec>;

export interface WorkPlacementSpec {
  targetDestinationName: string;
  workName: string;
  workNamespace: string;
  workloadGroupId: string;
  promiseName: string;
  resourceName?: string;
  /** Digest of the workloads last written for this placement. */
  digest: string;
  /** Root-relative paths this placement owns in the state store (for deletion). */
  paths: string[];
}

export type WorkPlacement = KratixObject<WorkPlacementSpec>;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
  lastTransitionTime?: string;
}
