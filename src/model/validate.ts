import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { describeObject, InvalidInputError } from './errors';
import {
  PLATFORM_API_VERSION,
  PLATFORM_GROUP,
  type BucketStateStore,
  type Destination,
  type DestinationSelector,
  type GitStateStore,
  type KratixObject,
  type KratixPromise,
  type PromiseSpec,
  type Secret,
} from './types';

/**
 * Checks Kratix objects the way the Kratix CRDs and webhooks would, so a bad file is refused
 * at the edge with one `InvalidInputError` that says where and what. Pure: no I/O, no clock.
 * Platform kinds are checked by hand for precise messages; resource requests are checked
 * against their Promise's `openAPIV3Schema` with ajv.
 */

export const PROMISE_VERSION_LABEL = 'kratix.io/promise-version';
export const VERSION_NOT_SET = 'not-set';
const CRD_API_VERSION = 'apiextensions.k8s.io/v1';
const MISSING = 'nothing (required property missing)';
/** How many schema errors a refusal lists before "and N more". */
const ERRORS_LISTED = 3;

type Json = Record<string, unknown>;

interface Where {
  file?: string;
  /** e.g. `Promise "mongodb"` */
  object: string;
}

// ---------------------------------------------------------------------------------------------
// Small checkers: each returns the typed value or throws with the dotted field path.

function fail(w: Where, field: string, expected: string, got?: string): never {
  throw new InvalidInputError({ file: w.file, object: w.object, field, expected, got });
}

function isMap(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a value reads after "got": its JSON type, or that the field is missing. */
function typeName(value: unknown): string {
  if (value === undefined) return MISSING;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'empty string' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeName(value);
}

/** `spec.users[0]["kratix.io/x"]`: keys that are not plain identifiers are quoted. */
function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  if (base === '') return part === key ? key : `[${part}]`;
  return part === key ? `${base}.${key}` : `${base}[${part}]`;
}

function map(w: Where, value: unknown, field: string): Json {
  if (!isMap(value)) fail(w, field, 'object', typeName(value));
  return value;
}

function optMap(w: Where, value: unknown, field: string): Json | undefined {
  return value === undefined ? undefined : map(w, value, field);
}

function list(w: Where, value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(w, field, 'list', typeName(value));
  return value;
}

function optList(w: Where, value: unknown, field: string): unknown[] {
  return value === undefined || value === null ? [] : list(w, value, field);
}

function str(w: Where, value: unknown, field: string): string {
  if (typeof value !== 'string') fail(w, field, 'string', typeName(value));
  if (value === '') fail(w, field, 'non-empty string', 'empty string');
  return value;
}

function optStr(w: Where, value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(w, field, 'string', typeName(value));
  return value;
}

function optBool(w: Where, value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    fail(w, field, 'boolean', typeName(value));
  }
}

function oneOf<T extends string>(
  w: Where,
  value: unknown,
  field: string,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(w, field, `one of ${allowed.join(', ')}`, shown(value));
  }
  return value as T;
}

function optOneOf<T extends string>(
  w: Where,
  value: unknown,
  field: string,
  allowed: readonly T[],
): T | undefined {
  return value === undefined ? undefined : oneOf(w, value, field, allowed);
}

function exact(w: Where, value: unknown, field: string, expected: string): void {
  if (value !== expected) fail(w, field, expected, shown(value));
}

function stringMap(w: Where, value: unknown, field: string): Record<string, string> {
  const m = map(w, value, field);
  for (const [key, v] of Object.entries(m)) {
    if (typeof v !== 'string') fail(w, at(field, key), 'string', typeName(v));
  }
  return m as Record<string, string>;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function isDnsSubdomain(text: string): boolean {
  return text.length <= 253 && DNS_SUBDOMAIN.test(text);
}

function dnsSubdomain(w: Where, value: unknown, field: string): string {
  const name = str(w, value, field);
  if (!isDnsSubdomain(name)) {
    fail(w, field, 'a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")', name);
  }
  return name;
}

/** Label keys (`[prefix/]name`) and values as Kubernetes accepts them. */
function labels(w: Where, value: unknown, field: string): Record<string, string> {
  const m = stringMap(w, value, field);
  for (const [key, v] of Object.entries(m)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash === -1 ? undefined : key.slice(0, slash);
    const name = slash === -1 ? key : key.slice(slash + 1);
    const keyOk =
      name.length <= 63 &&
      LABEL_NAME.test(name) &&
      (prefix === undefined || isDnsSubdomain(prefix));
    if (!keyOk) fail(w, at(field, key), 'a valid label key', key);
    if (v !== '' && !(v.length <= 63 && LABEL_NAME.test(v))) {
      fail(w, at(field, key), 'a valid label value (63 letters, digits, "-", "_", ".")', v);
    }
  }
  return m;
}

/** apiVersion, kind and metadata of any object; returns where it is for later messages. */
function header(obj: unknown, file: string | undefined, fallbackKind: string): [Json, Where] {
  if (!isMap(obj)) {
    fail({ file, object: describeObject(fallbackKind, undefined) }, '', 'object', typeName(obj));
  }
  const meta = isMap(obj.metadata) ? obj.metadata : undefined;
  const kind = typeof obj.kind === 'string' ? obj.kind : fallbackKind;
  const name = typeof meta?.name === 'string' ? meta.name : undefined;
  const w: Where = { file, object: describeObject(kind, name) };
  str(w, obj.apiVersion, 'apiVersion');
  str(w, obj.kind, 'kind');
  const metadata = map(w, obj.metadata, 'metadata');
  dnsSubdomain(w, metadata.name, 'metadata.name');
  if (metadata.namespace !== undefined) {
    const ns = str(w, metadata.namespace, 'metadata.namespace');
    if (!(ns.length <= 63 && DNS_LABEL.test(ns))) {
      fail(w, 'metadata.namespace', 'a DNS-1123 label', ns);
    }
  }
  if (metadata.labels !== undefined) labels(w, metadata.labels, 'metadata.labels');
  if (metadata.annotations !== undefined) {
    stringMap(w, metadata.annotations, 'metadata.annotations');
  }
  return [obj, w];
}

function platformHeader(obj: unknown, file: string | undefined, kind: string): [Json, Where] {
  const [o, w] = header(obj, file, kind);
  exact(w, o.apiVersion, 'apiVersion', PLATFORM_API_VERSION);
  exact(w, o.kind, 'kind', kind);
  return [o, w];
}

function secretRef(w: Where, value: unknown, field: string): void {
  if (value === undefined) return;
  const ref = map(w, value, field);
  str(w, ref.name, `${field}.name`);
  optStr(w, ref.namespace, `${field}.namespace`);
}

function matchLabelsSelector(w: Where, value: unknown, field: string): DestinationSelector {
  const s = map(w, value, field);
  labels(w, s.matchLabels, `${field}.matchLabels`);
  return s as DestinationSelector;
}

// ---------------------------------------------------------------------------------------------
// Promise

const WORKFLOW_TYPES = ['promise', 'resource'] as const;
const WORKFLOW_ACTIONS = ['configure', 'delete'] as const;

/** A `platform.kratix.io/v1alpha1` Promise, with its CRD, workflows and dependencies. */
export function validatePromise(obj: unknown, file?: string): KratixPromise {
  const [o, w] = platformHeader(obj, file, 'Promise');
  const spec = optMap(w, o.spec, 'spec') ?? {};
  validatePromiseSpec(w, spec, 'spec');
  return o as KratixPromise;
}

function validatePromiseSpec(w: Where, spec: Json, field: string): void {
  if (spec.api !== undefined) validateCrd(w, spec.api, at(field, 'api'));

  const workflows = optMap(w, spec.workflows, at(field, 'workflows'));
  for (const [type, byAction] of Object.entries(workflows ?? {})) {
    const typeField = at(at(field, 'workflows'), type);
    oneOf(w, type, typeField, WORKFLOW_TYPES);
    for (const [action, pipelines] of Object.entries(optMap(w, byAction, typeField) ?? {})) {
      const actionField = at(typeField, action);
      oneOf(w, action, actionField, WORKFLOW_ACTIONS);
      validatePipelines(w, pipelines, actionField);
    }
  }

  optList(w, spec.dependencies, at(field, 'dependencies')).forEach((dep, i) => {
    const depField = at(at(field, 'dependencies'), i);
    const d = map(w, dep, depField);
    str(w, d.apiVersion, `${depField}.apiVersion`);
    str(w, d.kind, `${depField}.kind`);
    const meta = map(w, d.metadata, `${depField}.metadata`);
    str(w, meta.name, `${depField}.metadata.name`);
  });

  optList(w, spec.destinationSelectors, at(field, 'destinationSelectors')).forEach((s, i) =>
    matchLabelsSelector(w, s, at(at(field, 'destinationSelectors'), i)),
  );

  optList(w, spec.requiredPromises, at(field, 'requiredPromises')).forEach((r, i) => {
    const rField = at(at(field, 'requiredPromises'), i);
    const req = map(w, r, rField);
    str(w, req.name, `${rField}.name`);
    optStr(w, req.version, `${rField}.version`);
  });
}

function validatePipelines(w: Where, value: unknown, field: string): void {
  const seen = new Set<string>();
  optList(w, value, field).forEach((p, i) => {
    const pField = at(field, i);
    const pipeline = map(w, p, pField);
    exact(w, pipeline.apiVersion, `${pField}.apiVersion`, PLATFORM_API_VERSION);
    exact(w, pipeline.kind, `${pField}.kind`, 'Pipeline');
    const meta = map(w, pipeline.metadata, `${pField}.metadata`);
    const name = dnsSubdomain(w, meta.name, `${pField}.metadata.name`);
    // Pipeline names key their Works and jobs, so two with one name would overwrite each other.
    if (seen.has(name)) fail(w, `${pField}.metadata.name`, `a name unique in ${field}`, name);
    seen.add(name);

    const spec = map(w, pipeline.spec, `${pField}.spec`);
    const containers = list(w, spec.containers, `${pField}.spec.containers`);
    if (containers.length === 0) {
      fail(w, `${pField}.spec.containers`, 'at least one container', 'empty list');
    }
    const containerNames = new Set<string>();
    containers.forEach((c, j) => {
      const cField = `${pField}.spec.containers[${j}]`;
      const container = map(w, c, cField);
      const cName = dnsSubdomain(w, container.name, `${cField}.name`);
      if (containerNames.has(cName)) {
        fail(w, `${cField}.name`, 'a name unique in its Pipeline', cName);
      }
      containerNames.add(cName);
      str(w, container.image, `${cField}.image`);
      for (const key of ['command', 'args'] as const) {
        optList(w, container[key], `${cField}.${key}`).forEach((arg, k) => {
          if (typeof arg !== 'string') fail(w, `${cField}.${key}[${k}]`, 'string', typeName(arg));
        });
      }
      optList(w, container.env, `${cField}.env`).forEach((e, k) => {
        const env = map(w, e, `${cField}.env[${k}]`);
        str(w, env.name, `${cField}.env[${k}].name`);
        optStr(w, env.value, `${cField}.env[${k}].value`);
      });
    });
  });
}

function validateCrd(w: Where, value: unknown, field: string): void {
  const api = map(w, value, field);
  if (api.kind !== 'CustomResourceDefinition') {
    fail(
      w,
      field,
      'a CustomResourceDefinition',
      api.kind === undefined ? 'no kind' : shown(api.kind),
    );
  }
  exact(w, api.apiVersion, `${field}.apiVersion`, CRD_API_VERSION);
  const meta = map(w, api.metadata, `${field}.metadata`);
  const crdName = dnsSubdomain(w, meta.name, `${field}.metadata.name`);
  const spec = map(w, api.spec, `${field}.spec`);
  const group = dnsSubdomain(w, spec.group, `${field}.spec.group`);
  const names = map(w, spec.names, `${field}.spec.names`);
  str(w, names.kind, `${field}.spec.names.kind`);
  const plural = str(w, names.plural, `${field}.spec.names.plural`);
  optStr(w, names.singular, `${field}.spec.names.singular`);
  // Kubernetes refuses a CRD whose name is not `<plural>.<group>`.
  if (crdName !== `${plural}.${group}`) {
    fail(w, `${field}.metadata.name`, `${plural}.${group}`, crdName);
  }
  optOneOf(w, spec.scope, `${field}.spec.scope`, ['Namespaced', 'Cluster']);

  const versions = list(w, spec.versions, `${field}.spec.versions`);
  let served = 0;
  let storage = 0;
  versions.forEach((v, i) => {
    const vField = `${field}.spec.versions[${i}]`;
    const version = map(w, v, vField);
    const name = str(w, version.name, `${vField}.name`);
    optBool(w, version.served, `${vField}.served`);
    optBool(w, version.storage, `${vField}.storage`);
    if (version.served === true) served++;
    if (version.storage === true) storage++;
    const schema = map(w, version.schema, `${vField}.schema`);
    const openAPI = map(w, schema.openAPIV3Schema, `${vField}.schema.openAPIV3Schema`);
    if (version.served === true) {
      // Compile now so a broken schema is refused with its Promise, not with its first request.
      try {
        compiledSchema(openAPI);
      } catch (error) {
        fail(
          w,
          `${vField}.schema.openAPIV3Schema`,
          `a valid OpenAPI v3 schema for ${name}`,
          (error as Error).message.replace(/, data\/.*$/s, ''),
        );
      }
    }
  });
  if (served === 0) {
    fail(w, `${field}.spec.versions`, 'at least one version with served: true', 'none');
  }
  if (storage > 1) {
    fail(w, `${field}.spec.versions`, 'exactly one version with storage: true', String(storage));
  }
}

// ---------------------------------------------------------------------------------------------
// Destinations, state stores, Secrets

const FILEPATH_MODES = ['nestedByMetadata', 'aggregatedYAML', 'none'] as const;

/** Labels are its scheduling labels; `spec.filepath.mode` left unset means `nestedByMetadata`. */
export function validateDestination(obj: unknown, file?: string): Destination {
  const [o, w] = platformHeader(obj, file, 'Destination');
  const spec = map(w, o.spec, 'spec');
  str(w, spec.path, 'spec.path');
  const ref = map(w, spec.stateStoreRef, 'spec.stateStoreRef');
  oneOf(w, ref.kind, 'spec.stateStoreRef.kind', ['GitStateStore', 'BucketStateStore']);
  dnsSubdomain(w, ref.name, 'spec.stateStoreRef.name');
  optBool(w, spec.strictMatchLabels, 'spec.strictMatchLabels');
  const filepath = optMap(w, spec.filepath, 'spec.filepath');
  if (filepath) {
    const mode = optOneOf(w, filepath.mode, 'spec.filepath.mode', FILEPATH_MODES);
    const filename = optStr(w, filepath.filename, 'spec.filepath.filename');
    if (filename !== undefined) relativePath(w, filename, 'spec.filepath.filename');
    // aggregatedYAML without a filename writes `aggregated.yaml` (model/paths.ts).
    void mode;
  }
  return o as Destination;
}

export function validateGitStateStore(obj: unknown, file?: string): GitStateStore {
  const [o, w] = platformHeader(obj, file, 'GitStateStore');
  const spec = map(w, o.spec, 'spec');
  str(w, spec.url, 'spec.url');
  optStr(w, spec.branch, 'spec.branch');
  optStr(w, spec.path, 'spec.path');
  const author = optMap(w, spec.gitAuthor, 'spec.gitAuthor');
  optStr(w, author?.name, 'spec.gitAuthor.name');
  optStr(w, author?.email, 'spec.gitAuthor.email');
  secretRef(w, spec.secretRef, 'spec.secretRef');
  optOneOf(w, spec.authMethod, 'spec.authMethod', ['basicAuth', 'ssh']);
  return o as GitStateStore;
}

/** A user edits a ResourceBinding to pin (or unpin) the version its request runs at. */
export function validateResourceBinding(obj: unknown, file?: string): KratixObject {
  const [o, w] = platformHeader(obj, file, 'ResourceBinding');
  const spec = map(w, o.spec, 'spec');
  str(w, spec.version, 'spec.version');
  const promiseRef = map(w, spec.promiseRef, 'spec.promiseRef');
  dnsSubdomain(w, promiseRef.name, 'spec.promiseRef.name');
  const resourceRef = map(w, spec.resourceRef, 'spec.resourceRef');
  str(w, resourceRef.name, 'spec.resourceRef.name');
  optStr(w, resourceRef.namespace, 'spec.resourceRef.namespace');
  return o as KratixObject;
}

export function validateBucketStateStore(obj: unknown, file?: string): BucketStateStore {
  const [o, w] = platformHeader(obj, file, 'BucketStateStore');
  const spec = map(w, o.spec, 'spec');
  str(w, spec.bucketName, 'spec.bucketName');
  str(w, spec.endpoint, 'spec.endpoint');
  optBool(w, spec.insecure, 'spec.insecure');
  optStr(w, spec.path, 'spec.path');
  secretRef(w, spec.secretRef, 'spec.secretRef');
  optOneOf(w, spec.authMethod, 'spec.authMethod', ['accessKey', 'IAM']);
  return o as BucketStateStore;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A `v1` Secret: base64 `data` and/or plain `stringData`. */
export function validateSecret(obj: unknown, file?: string): Secret {
  const [o, w] = header(obj, file, 'Secret');
  exact(w, o.apiVersion, 'apiVersion', 'v1');
  exact(w, o.kind, 'kind', 'Secret');
  if (o.data !== undefined && o.data !== null) {
    for (const [key, value] of Object.entries(stringMap(w, o.data, 'data'))) {
      if (!BASE64.test(value)) fail(w, at('data', key), 'base64 text', 'text that is not base64');
    }
  }
  if (o.stringData !== undefined && o.stringData !== null) {
    stringMap(w, o.stringData, 'stringData');
  }
  optStr(w, o.type, 'type');
  return o as Secret;
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

/** A path inside the output directory: relative, no `..`; returned without `./` or trailing `/`. */
function relativePath(w: Where, value: string, field: string): string {
  const parts = value.split('/').filter((p) => p !== '' && p !== '.');
  if (value.startsWith('/') || value.includes('\\') || parts.includes('..') || parts.length === 0) {
    fail(
      w,
      field,
      'a relative path inside the output directory, without ".."',
      value || 'empty string',
    );
  }
  return parts.join('/');
}

// ---------------------------------------------------------------------------------------------
// Resource requests

export interface CrdInfo {
  group: string;
  kind: string;
  plural: string;
  singular?: string;
  /** Names of the served versions, in the CRD's order. */
  versions: string[];
  /** The version with `storage: true` (else the first served one). */
  storageVersion: string;
}

function specOf(promise: KratixPromise | PromiseSpec): PromiseSpec | undefined {
  const p = promise as Json;
  if (p.kind === 'Promise' && typeof p.apiVersion === 'string') {
    return isMap(p.spec) ? (p.spec as PromiseSpec) : undefined;
  }
  return promise as PromiseSpec;
}

function crdVersions(promise: KratixPromise | PromiseSpec): Json[] {
  const api = specOf(promise)?.api;
  const spec = isMap(api?.spec) ? api.spec : undefined;
  return Array.isArray(spec?.versions) ? spec.versions.filter(isMap) : [];
}

/** The API a Promise offers (its `spec.api` CRD), or undefined for a Promise without one. */
export function crdOf(promise: KratixPromise | PromiseSpec): CrdInfo | undefined {
  const api = specOf(promise)?.api;
  if (!isMap(api) || !isMap(api.spec) || !isMap(api.spec.names)) return undefined;
  const { group } = api.spec;
  const { kind, plural, singular } = api.spec.names;
  if (typeof group !== 'string' || typeof kind !== 'string' || typeof plural !== 'string') {
    return undefined;
  }
  const all = crdVersions(promise);
  const versions = all
    .filter((v) => v.served === true && typeof v.name === 'string')
    .map((v) => v.name as string);
  const storage = all.find((v) => v.storage === true && typeof v.name === 'string');
  const storageVersion = (storage?.name as string | undefined) ?? versions[0];
  if (storageVersion === undefined) return undefined;
  return {
    group,
    kind,
    plural,
    ...(typeof singular === 'string' ? { singular } : {}),
    versions,
    storageVersion,
  };
}

/**
 * A resource request for `promise`: apiVersion `<group>/<served version>`, the CRD's kind, and
 * a body valid against that version's `openAPIV3Schema`. Returns a copy with the schema's
 * `default`s filled in, as the Kubernetes API server stores it; the input is not changed.
 * Every schema error is collected; the message lists the first few.
 */
export function validateResourceRequest(
  obj: unknown,
  promise: KratixPromise | PromiseSpec,
  file?: string,
): KratixObject {
  const crd = crdOf(promise);
  const kind = isMap(obj) && typeof obj.kind === 'string' ? obj.kind : (crd?.kind ?? 'resource');
  const [o, w] = header(obj, file, kind);
  if (!crd) {
    const name = (promise as KratixPromise).metadata?.name;
    fail(
      w,
      'kind',
      'a kind served by an installed Promise',
      `${o.apiVersion as string} ${kind}${name ? ` (Promise "${name}" has no spec.api)` : ''}`,
    );
  }
  exact(w, o.kind, 'kind', crd.kind);
  const apiVersion = o.apiVersion as string;
  const slash = apiVersion.lastIndexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (group !== crd.group || !crd.versions.includes(version)) {
    fail(
      w,
      'apiVersion',
      `one of ${crd.versions.map((v) => `${crd.group}/${v}`).join(', ')}`,
      apiVersion,
    );
  }
  const schema = crdVersions(promise).find((v) => v.name === version)?.schema;
  const openAPI = isMap(schema) && isMap(schema.openAPIV3Schema) ? schema.openAPIV3Schema : {};

  const copy = structuredClone(o);
  const validateFn = compiledSchema(openAPI);
  if (validateFn(copy)) return copy as KratixObject;

  const problems = schemaProblems(validateFn.errors ?? []);
  const first = problems[0];
  if (problems.length === 1 && first) fail(w, first.field, first.expected, first.got);
  const listed = problems
    .slice(0, ERRORS_LISTED)
    .map((p) => `${p.field}: expected ${p.expected}, got ${p.got}`);
  if (problems.length > ERRORS_LISTED) listed.push(`and ${problems.length - ERRORS_LISTED} more`);
  fail(w, '', `a valid ${crd.kind}`, `${problems.length} errors: ${listed.join('; ')}`);
}

interface Problem {
  field: string;
  expected: string;
  got: string;
}

/** ajv's errors as field/expected/got, with each failed `anyOf` reported once. */
function schemaProblems(errors: ErrorObject[]): Problem[] {
  const out: (Problem & { schemaPath: string })[] = [];
  for (const e of errors) {
    const base = pointerToPath(e.instancePath);
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      // Fold the branch errors at this same field into one "expected A or B".
      const branches = out.filter(
        (p) => p.schemaPath.startsWith(`${e.schemaPath}/`) && p.field === base,
      );
      const rest = out.filter((p) => !branches.includes(p));
      out.length = 0;
      out.push(...rest);
      const expected = branches.length
        ? [...new Set(branches.map((b) => b.expected))].join(' or ')
        : 'a value matching the schema';
      out.push({ field: base, expected, got: typeName(e.data), schemaPath: e.schemaPath });
      continue;
    }
    out.push({ ...describeSchemaError(e, base), schemaPath: e.schemaPath });
  }
  // Several keywords can say the same thing (an `anyOf` and x-kubernetes-int-or-string).
  const seen = new Set<string>();
  return out
    .map(({ field, expected, got }) => ({ field, expected, got }))
    .filter((p) => {
      const key = `${p.field}\0${p.expected}\0${p.got}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

function describeSchemaError(e: ErrorObject, base: string): Problem {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return { field: base, expected: [params.type].flat().join(' or '), got: typeName(e.data) };
    case 'required': {
      const missing = String(params.missingProperty);
      const parent =
        isMap(e.parentSchema) && isMap(e.parentSchema.properties) ? e.parentSchema.properties : {};
      const prop = parent[missing];
      const type = isMap(prop) && typeof prop.type === 'string' ? prop.type : 'a value';
      return { field: at(base, missing), expected: type, got: MISSING };
    }
    case 'enum':
      return {
        field: base,
        expected: `one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        got: JSON.stringify(e.data) ?? 'nothing',
      };
    case 'pattern':
      return {
        field: base,
        expected: `a string matching ${String(params.pattern)}`,
        got: JSON.stringify(e.data),
      };
    case 'format':
      return {
        field: base,
        expected: `${String(params.format)} format`,
        got: JSON.stringify(e.data),
      };
    case INT_OR_STRING:
      return { field: base, expected: 'integer or string', got: typeName(e.data) };
    case 'additionalProperties':
      return {
        field: at(base, String(params.additionalProperty)),
        expected: 'no such field',
        got: 'a value',
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        field: base,
        expected: `a number ${String(params.comparison)} ${String(params.limit)}`,
        got: JSON.stringify(e.data),
      };
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return {
        field: base,
        expected: `at least ${String(params.limit)} ${unitOf(e.keyword)}`,
        got: sizeOf(e.data),
      };
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return {
        field: base,
        expected: `at most ${String(params.limit)} ${unitOf(e.keyword)}`,
        got: sizeOf(e.data),
      };
    default: {
      // minimum, maxLength, minItems…: ajv's own wording reads well after "expected".
      const got =
        e.data !== null && typeof e.data === 'object' ? typeName(e.data) : JSON.stringify(e.data);
      return {
        field: base,
        expected: (e.message ?? e.keyword).replace(/^must /, ''),
        got: got ?? 'nothing',
      };
    }
  }
}

function unitOf(keyword: string): string {
  if (keyword.endsWith('Length')) return 'characters';
  return keyword.endsWith('Items') ? 'items' : 'properties';
}

function sizeOf(data: unknown): string {
  if (typeof data === 'string') return `${data.length} characters`;
  if (Array.isArray(data)) return `${data.length} items`;
  return isMap(data) ? `${Object.keys(data).length} properties` : typeName(data);
}

/** `/spec/users/0/name` → `spec.users[0].name`. */
function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((path, seg) => at(path, /^\d+$/.test(seg) ? Number(seg) : seg), '');
}

// ---------------------------------------------------------------------------------------------
// Schema compilation: one ajv, compiled validators cached by schema text.

const INT_OR_STRING = 'x-kubernetes-int-or-string';
/** Bounds the cache; Promises change rarely, so this holds every live schema in practice. */
const CACHE_LIMIT = 200;

let ajvInstance: Ajv | undefined;
const validators = new Map<string, { fn: ValidateFunction; schema: Json }>();

function ajv(): Ajv {
  if (ajvInstance) return ajvInstance;
  ajvInstance = new Ajv({
    // Kubernetes schemas carry x-kubernetes-* and other keywords ajv does not know.
    strict: false,
    allErrors: true,
    verbose: true,
    useDefaults: true,
    // Kubernetes patterns are RE2; without the `u` flag JS accepts more of them as written.
    unicodeRegExp: false,
    logger: false,
  });
  // Only the formats Kubernetes itself checks; unknown ones are ignored as Kubernetes does.
  addFormats(ajvInstance, [
    'date',
    'date-time',
    'email',
    'hostname',
    'ipv4',
    'ipv6',
    'uri',
    'uuid',
    'byte',
    'int32',
    'int64',
    'float',
    'double',
    'password',
    'binary',
  ]);
  // Kubernetes `duration` is Go's (`1h30m`), not ISO 8601.
  ajvInstance.addFormat('duration', /^[-+]?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$|^0$/);
  ajvInstance.addKeyword({
    keyword: INT_OR_STRING,
    schemaType: 'boolean',
    errors: true,
    validate: (on: boolean, data: unknown) =>
      !on || typeof data === 'string' || Number.isInteger(data),
  });
  return ajvInstance;
}

function compiledSchema(openAPIV3Schema: Json): ValidateFunction {
  const key = JSON.stringify(openAPIV3Schema);
  const hit = validators.get(key);
  if (hit) return hit.fn;
  const schema = forRequests(openAPIV3Schema);
  const fn = ajv().compile(schema);
  if (validators.size >= CACHE_LIMIT) {
    const oldest = validators.keys().next().value;
    if (oldest !== undefined) {
      ajv().removeSchema(validators.get(oldest)?.schema);
      validators.delete(oldest);
    }
  }
  validators.set(key, { fn, schema });
  return fn;
}

/**
 * A copy of a CRD schema as ajv should check a request: `metadata` and `status` are the API
 * server's business (Kubernetes ignores their schema on create), and OpenAPI quirks ajv refuses
 * are removed rather than failing the whole Promise.
 */
function forRequests(openAPIV3Schema: Json): Json {
  const schema = normalise(structuredClone(openAPIV3Schema));
  if (isMap(schema.properties)) {
    delete schema.properties.metadata;
    delete schema.properties.status;
  }
  if (Array.isArray(schema.required)) {
    schema.required = schema.required.filter((r) => r !== 'metadata' && r !== 'status');
  }
  return schema;
}

function normalise(schema: Json): Json {
  // ajv refuses `nullable` without `type`, which Kubernetes allows (e.g. with preserve-unknown-fields).
  if (schema.nullable !== undefined && schema.type === undefined) delete schema.nullable;
  // RE2 patterns JS cannot parse are dropped: better unchecked than a Promise that never loads.
  if (typeof schema.pattern === 'string') {
    try {
      new RegExp(schema.pattern);
    } catch {
      delete schema.pattern;
    }
  }
  for (const key of ['properties', 'patternProperties', 'definitions'] as const) {
    const children = schema[key];
    if (isMap(children)) Object.values(children).filter(isMap).forEach(normalise);
  }
  for (const key of ['items', 'additionalProperties', 'not'] as const) {
    const child = schema[key];
    if (isMap(child)) normalise(child);
    if (Array.isArray(child)) child.filter(isMap).forEach(normalise);
  }
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) {
    const children = schema[key];
    if (Array.isArray(children)) children.filter(isMap).forEach(normalise);
  }
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Dispatch, versions, names

const PLATFORM_VALIDATORS: Record<string, (obj: unknown, file?: string) => KratixObject> = {
  Promise: validatePromise,
  Destination: validateDestination,
  GitStateStore: validateGitStateStore,
  BucketStateStore: validateBucketStateStore,
  ResourceBinding: validateResourceBinding,
};

export interface ValidateContext {
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

  const promise = context.findPromiseForKind?.(av, k);
  if (promise) return validateResourceRequest(obj, promise, file);
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

/** Label `kratix.io/promise-version`, or `not-set` when there is none. */
export function promiseVersion(promise: KratixObject): string {
  const version = promise.metadata?.labels?.[PROMISE_VERSION_LABEL];
  return typeof version === 'string' && version !== '' ? version : VERSION_NOT_SET;
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
