/**
 * Checks Kratix objects the way the Kratix CRDs and webhooks would, so a bad file is refused
 * at the edge with one `InvalidInputError` that says where and what. Pure: no I/O, no clock.
 * Platform kinds are checked by hand for precise messages (validate-promise.ts,
 * validate-platform.ts); resource requests against their Promise's `openAPIV3Schema` with
 * ajv (validate-request.ts, crd-schema.ts). This module dispatches and re-exports them.
 */
import { describeObject, InvalidInputError } from './errors';
import { at, fail, header, isMap, refuse } from './field-checks';
import { labelKeyRefusal, labelValueRefusal } from './names';
import { PLATFORM_GROUP, type KratixObject, type KratixPromise, type PromiseSpec } from './types';
import { ROLLOUT_KIND } from './rollout';
import { validateRolloutPolicy } from './validate-rollout';
import type { RequestValidationOptions } from './validate-request';
import {
  validateBucketStateStore,
  validateConfigMap,
  validateDestination,
  validateGitStateStore,
  validateResourceBinding,
  validateSecret,
} from './validate-platform';
import { validatePromise } from './validate-promise';
import { validateResourceRequest } from './validate-request';

export {
  crdOf,
  promiseVersion,
  PROMISE_VERSION_LABEL,
  VERSION_NOT_SET,
  type CrdInfo,
} from './crd-info';
export { isDnsSubdomain } from './names';
export {
  validateBucketStateStore,
  validateConfigMap,
  validateDestination,
  validateGitStateStore,
  validatePipelineSelectors,
  validateResourceBinding,
  validateSecret,
} from './validate-platform';
export { hasNoApi, parseGoDuration, validatePromise } from './validate-promise';
export { validateResourceRequest, type RequestValidationOptions } from './validate-request';

const PLATFORM_VALIDATORS: Record<string, (obj: unknown, file?: string) => KratixObject> = {
  Promise: validatePromise,
  Destination: validateDestination,
  GitStateStore: validateGitStateStore,
  BucketStateStore: validateBucketStateStore,
  ResourceBinding: validateResourceBinding,
};

export interface ValidateContext extends RequestValidationOptions {
  file?: string;
  /** The installed Promise serving `apiVersion`/`kind`, if any (for resource requests). */
  findPromiseForKind?: (
    apiVersion: string,
    kind: string,
  ) => KratixPromise | PromiseSpec | undefined;
}

/**
 * Any object a user may apply: platform kinds, `v1` Secrets, or a resource request of an
 * installed Promise's API. Returns the object as validated (requests with defaults filled in).
 */
export function validateObject(obj: unknown, context: ValidateContext = {}): KratixObject {
  const { file } = context;
  const apiVersion = isMap(obj) ? obj.apiVersion : undefined;
  const kind = isMap(obj) ? obj.kind : undefined;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    // header() names the first missing field.
    header(obj, file, typeof kind === 'string' ? kind : 'object');
  }
  const av = apiVersion as string;
  const k = kind as string;
  const platform = PLATFORM_VALIDATORS[k];
  if (platform && av.startsWith(`${PLATFORM_GROUP}/`)) return platform(obj, file);
  if (k === 'Secret' && av === 'v1') return validateSecret(obj, file);
  if (k === ROLLOUT_KIND) return validateRolloutPolicy(obj, file) as unknown as KratixObject;
  // Pipelines read ConfigMaps (env valueFrom/envFrom, volumes) from the platform store.
  if (k === 'ConfigMap' && av === 'v1') return validateConfigMap(obj, file);

  const promise = context.findPromiseForKind?.(av, k);
  if (promise) return validateResourceRequest(obj, promise, file, context);
  // A platform kind under the wrong apiVersion reads better as "expected platform.kratix.io/…".
  if (platform) return platform(obj, file);
  if (k === 'Secret') return validateSecret(obj, file);

  const meta = isMap(obj) && isMap(obj.metadata) ? obj.metadata : undefined;
  const name = typeof meta?.name === 'string' ? meta.name : undefined;
  throw new InvalidInputError({
    file,
    object: describeObject(k, name),
    field: 'kind',
    expected: 'a kind served by an installed Promise',
    got: `${av} ${k}`,
  });
}

/**
 * Why `obj` is a plain Kubernetes object that Promiseflow does not manage (a Namespace, a
 * Deployment, a bare CRD: core `v1` kinds other than Secret and ConfigMap, and the groups
 * Kubernetes itself defines), or undefined. Such objects sit beside Promises in real files
 * (a Namespace for `pipelineNamespace`); `promiseflow apply` skips them with a warning, so the
 * Promise in the file still loads, and they are for the cluster (`kubectl apply`).
 */
export function plainKubernetesObject(obj: KratixObject): string | undefined {
  const av = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const slash = av.lastIndexOf('/');
  const group = slash === -1 ? '' : av.slice(0, slash);
  const builtIn =
    group === ''
      ? !['Secret', 'ConfigMap'].includes(obj.kind)
      : !group.includes('.') || group.endsWith('.k8s.io');
  if (!builtIn) return undefined;
  return `${obj.kind} "${obj.metadata?.name ?? '<no name>'}" (${av}) skipped: a plain Kubernetes object, not one Promiseflow manages (apply it to a cluster with kubectl)`;
}

/**
 * Label changes (`k=v` sets, `k-` removes, as `promiseflow label` takes them) checked as
 * `metadata.labels` is on apply; `object` names the object in the message.
 */
export function validateLabelPatch(object: string, patch: Record<string, string | null>): void {
  const w = { object };
  for (const [key, value] of Object.entries(patch)) {
    const field = at('metadata.labels', key);
    if (key === '') fail(w, field, 'a label key', 'empty string');
    // Removing a key that could never have been set is harmless; setting one is not.
    if (value !== null) refuse(w, field, labelKeyRefusal(key) ?? labelValueRefusal(value));
  }
}

/**
 * `text` made a valid DNS-1123 subdomain (the shape of Kubernetes object names): lower-cased,
 * other characters turned into `-`, each dot-separated part trimmed to start and end with a
 * letter or digit, at most 253 characters. `redis-v0.1.0` stays as it is; `Foo_Bar` → `foo-bar`.
 */
export function toDnsLabel(text: string): string {
  const parts = text
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .split('.')
    .map((p) => p.replace(/^-+|-+$/g, ''))
    .filter((p) => p !== '');
  const name = parts
    .join('.')
    .slice(0, 253)
    .replace(/[-.]+$/, '');
  if (name === '') {
    throw new InvalidInputError({
      field: 'name',
      expected: 'text with at least one letter or digit',
      got: JSON.stringify(text),
    });
  }
  return name;
}
