/**
 * Destinations, state stores, Secrets, ResourceBindings and the destination selectors a
 * pipeline writes, checked as the Kratix CRDs and webhooks would, plus what Promiseflow
 * needs of every string that later becomes a path, a branch, a bucket or a label. Pure.
 */
import {
  at,
  exact,
  fail,
  header,
  list,
  map,
  matchLabelsSelector,
  objectName,
  oneOf,
  optBool,
  optMap,
  optOneOf,
  optStr,
  dnsLabel,
  platformHeader,
  refuse,
  relativePath,
  secretRef,
  storeFile,
  storePath,
  str,
  stringMap,
  type Json,
  type Where,
} from './field-checks';
import { LABELS } from './labels';
import { bucketNameRefusal, gitBranchRefusal } from './names';
import type {
  BucketStateStore,
  Destination,
  DestinationSelector,
  GitStateStore,
  KratixObject,
  Secret,
} from './types';

const FILEPATH_MODES = ['nestedByMetadata', 'aggregatedYAML', 'none'] as const;

/** Labels are its scheduling labels; `spec.filepath.mode` left unset means `nestedByMetadata`. */
export function validateDestination(obj: unknown, file?: string): Destination {
  // The name is copied into kratix.io/targetDestinationName on every WorkPlacement.
  const [o, w] = platformHeader(obj, file, 'Destination', LABELS.targetDestinationName);
  const spec = map(w, o.spec, 'spec');
  storePath(w, str(w, spec.path, 'spec.path'), 'spec.path');
  const ref = map(w, spec.stateStoreRef, 'spec.stateStoreRef');
  oneOf(w, ref.kind, 'spec.stateStoreRef.kind', ['GitStateStore', 'BucketStateStore']);
  objectName(w, ref.name, 'spec.stateStoreRef.name');
  optBool(w, spec.strictMatchLabels, 'spec.strictMatchLabels');
  const filepath = optMap(w, spec.filepath, 'spec.filepath');
  if (filepath) {
    optOneOf(w, filepath.mode, 'spec.filepath.mode', FILEPATH_MODES);
    // aggregatedYAML without a filename writes `aggregated.yaml` (model/paths.ts).
    const filename = optStr(w, filepath.filename, 'spec.filepath.filename');
    if (filename !== undefined) storeFile(w, filename, 'spec.filepath.filename');
  }
  return o as Destination;
}

export function validateGitStateStore(obj: unknown, file?: string): GitStateStore {
  const [o, w] = platformHeader(obj, file, 'GitStateStore');
  const spec = map(w, o.spec, 'spec');
  str(w, spec.url, 'spec.url');
  const branch = optStr(w, spec.branch, 'spec.branch');
  if (branch !== undefined) refuse(w, 'spec.branch', gitBranchRefusal(branch));
  const author = optMap(w, spec.gitAuthor, 'spec.gitAuthor');
  optStr(w, author?.name, 'spec.gitAuthor.name');
  optStr(w, author?.email, 'spec.gitAuthor.email');
  stateStoreAccess(w, spec, ['basicAuth', 'ssh']);
  return o as GitStateStore;
}

export function validateBucketStateStore(obj: unknown, file?: string): BucketStateStore {
  const [o, w] = platformHeader(obj, file, 'BucketStateStore');
  const spec = map(w, o.spec, 'spec');
  refuse(w, 'spec.bucketName', bucketNameRefusal(str(w, spec.bucketName, 'spec.bucketName')));
  str(w, spec.endpoint, 'spec.endpoint');
  optBool(w, spec.insecure, 'spec.insecure');
  stateStoreAccess(w, spec, ['accessKey', 'IAM']);
  return o as BucketStateStore;
}

/** What every state store has: a root path inside it, and how to authenticate. */
function stateStoreAccess(w: Where, spec: Json, authMethods: readonly string[]): void {
  const path = optStr(w, spec.path, 'spec.path');
  if (path !== undefined) storePath(w, path, 'spec.path');
  secretRef(w, spec.secretRef, 'spec.secretRef');
  optOneOf(w, spec.authMethod, 'spec.authMethod', authMethods);
}

/** A user edits a ResourceBinding to pin (or unpin) the version its request runs at. */
export function validateResourceBinding(obj: unknown, file?: string): KratixObject {
  const [o, w] = platformHeader(obj, file, 'ResourceBinding');
  const spec = map(w, o.spec, 'spec');
  str(w, spec.version, 'spec.version');
  const promiseRef = map(w, spec.promiseRef, 'spec.promiseRef');
  objectName(w, promiseRef.name, 'spec.promiseRef.name', LABELS.promiseName);
  const resourceRef = map(w, spec.resourceRef, 'spec.resourceRef');
  objectName(w, resourceRef.name, 'spec.resourceRef.name', LABELS.resourceName);
  if (resourceRef.namespace !== undefined) {
    dnsLabel(w, resourceRef.namespace, 'spec.resourceRef.namespace');
  }
  return o as KratixObject;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

function secretKeys(w: Where, data: Record<string, string>, field: string): void {
  for (const key of Object.keys(data)) {
    if (!SECRET_KEY.test(key) || key.length > 253) {
      fail(w, at(field, key), 'a key of letters, digits, "-", "_" and "."', key || 'empty string');
    }
  }
}

/** A `v1` Secret: base64 `data` and/or plain `stringData`. */
export function validateSecret(obj: unknown, file?: string): Secret {
  const [o, w] = header(obj, file, 'Secret');
  exact(w, o.apiVersion, 'apiVersion', 'v1');
  exact(w, o.kind, 'kind', 'Secret');
  if (o.data !== undefined && o.data !== null) {
    const data = stringMap(w, o.data, 'data');
    secretKeys(w, data, 'data');
    for (const [key, value] of Object.entries(data)) {
      if (!BASE64.test(value)) fail(w, at('data', key), 'base64 text', 'text that is not base64');
    }
  }
  if (o.stringData !== undefined && o.stringData !== null) {
    secretKeys(w, stringMap(w, o.stringData, 'stringData'), 'stringData');
  }
  optStr(w, o.type, 'type');
  return o as Secret;
}

/** A `v1` ConfigMap: string `data` and/or base64 `binaryData`, keys as Kubernetes allows. */
export function validateConfigMap(obj: unknown, file?: string): KratixObject {
  const [o, w] = header(obj, file, 'ConfigMap');
  exact(w, o.apiVersion, 'apiVersion', 'v1');
  exact(w, o.kind, 'kind', 'ConfigMap');
  if (o.data !== undefined && o.data !== null) secretKeys(w, stringMap(w, o.data, 'data'), 'data');
  if (o.binaryData !== undefined && o.binaryData !== null) {
    const data = stringMap(w, o.binaryData, 'binaryData');
    secretKeys(w, data, 'binaryData');
    for (const [key, value] of Object.entries(data)) {
      if (!BASE64.test(value))
        fail(w, at('binaryData', key), 'base64 text', 'text that is not base64');
    }
  }
  optBool(w, o.immutable, 'immutable');
  return o as KratixObject;
}

/** What a workflow wrote to `/kratix/metadata/destination-selectors.yaml`, already parsed. */
export function validatePipelineSelectors(value: unknown, file: string): DestinationSelector[] {
  const w: Where = { file, object: 'destination selectors' };
  if (value === null || value === undefined) return [];
  return list(w, value, '').map((entry, i) => {
    const field = `[${i}]`;
    const s = matchLabelsSelector(w, entry, field);
    const directory = optStr(w, s.directory, `${field}.directory`);
    if (directory === undefined) return { matchLabels: s.matchLabels };
    return {
      directory: relativePath(w, directory, `${field}.directory`),
      matchLabels: s.matchLabels,
    };
  });
}
