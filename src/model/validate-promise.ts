/**
 * A `platform.kratix.io/v1alpha1` Promise as the Kratix CRD and webhook would check it: its
 * API (a CRD whose served schemas compile and whose CEL rules Promiseflow can evaluate), its
 * workflows (`config`, and Pipelines decoded as strictly as Kratix decodes them) and its
 * dependencies. Kratix's leniencies are kept (see `hasNoApi`, `validateCrd`) and so are its
 * refusals (Cluster scope, the 60-character pipeline id). Pure.
 */
import { checkCelRules } from './crd-cel';
import { compiledSchema, schemaDefinitionProblem } from './crd-schema';
import {
  at,
  dnsLabel,
  exact,
  fail,
  isMap,
  labels,
  list,
  map,
  matchLabelsSelector,
  objectName,
  oneOf,
  optBool,
  optList,
  optMap,
  optOneOf,
  optStr,
  platformHeader,
  shown,
  str,
  stringMap,
  type Json,
  type Where,
} from './field-checks';
import { LABELS } from './labels';
import { validatePipeline } from './validate-pipeline';
import { type KratixPromise } from './types';

export const CRD_API_VERSION = 'apiextensions.k8s.io/v1';
const WORKFLOW_TYPES = ['promise', 'resource'] as const;
const WORKFLOW_ACTIONS = ['configure', 'delete'] as const;
/** Kratix's webhook: `<promise>-<type>-<action>-<pipeline>` names the ServiceAccount and more. */
export const MAX_PIPELINE_ID_LENGTH = 60;
/** Kratix's `MinReconciliationInterval`. */
const MIN_RECONCILIATION_MS = 60_000;

/** A `platform.kratix.io/v1alpha1` Promise, with its CRD, workflows and dependencies. */
export function validatePromise(obj: unknown, file?: string): KratixPromise {
  // The name is copied into the label kratix.io/promise-name of every Work and revision.
  const [o, w] = platformHeader(obj, file, 'Promise', LABELS.promiseName);
  const spec = optMap(w, o.spec, 'spec') ?? {};
  validatePromiseSpec(w, spec, 'spec', o.metadata as Json);
  return o as KratixPromise;
}

/**
 * Kratix reads `spec.api` absent, `null` or `{}` as "this Promise offers no API"
 * (`Promise.DoesNotContainAPI`), so a Promise of dependencies only may carry any of them.
 */
export function hasNoApi(api: unknown): boolean {
  return api === undefined || api === null || (isMap(api) && Object.keys(api).length === 0);
}

function validatePromiseSpec(w: Where, spec: Json, field: string, metadata: Json): void {
  if (!hasNoApi(spec.api)) validateCrd(w, spec.api, at(field, 'api'));

  const workflowsField = at(field, 'workflows');
  const workflows = spec.workflows === null ? undefined : optMap(w, spec.workflows, workflowsField);
  for (const [type, byAction] of Object.entries(workflows ?? {})) {
    const typeField = at(workflowsField, type);
    if (type === 'config') {
      validateWorkflowConfig(w, byAction, typeField);
      continue;
    }
    oneOf(w, type, typeField, [...WORKFLOW_TYPES, 'config']);
    if (byAction === null) continue;
    for (const [action, pipelines] of Object.entries(map(w, byAction, typeField))) {
      const actionField = at(typeField, action);
      oneOf(w, action, actionField, WORKFLOW_ACTIONS);
      validatePipelines(w, pipelines, actionField, `${metadata.name as string}-${type}-${action}`);
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

  // Kratix's CRD makes matchLabels optional: an entry without it selects nothing extra.
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

/** `spec.workflows.config` (`config: {}` and `null`, as the kratix CLI writes them, are fine). */
function validateWorkflowConfig(w: Where, value: unknown, field: string): void {
  if (value === null) return;
  const config = map(w, value, field);
  for (const key of Object.keys(config)) {
    oneOf(w, key, at(field, key), ['pipelineNamespace', 'reconciliationInterval']);
  }
  if (config.pipelineNamespace !== undefined && config.pipelineNamespace !== '') {
    dnsLabel(w, config.pipelineNamespace, `${field}.pipelineNamespace`);
  }
  if (config.reconciliationInterval !== undefined) {
    const text = str(w, config.reconciliationInterval, `${field}.reconciliationInterval`);
    const ms = parseGoDuration(text);
    if (ms === undefined) {
      fail(w, `${field}.reconciliationInterval`, 'a duration such as 10m or 1h30m', text);
    }
    if (ms < MIN_RECONCILIATION_MS) {
      fail(w, `${field}.reconciliationInterval`, 'a duration of at least 1m0s', text);
    }
  }
}

/** Go's `time.ParseDuration` (as Kubernetes' metav1.Duration reads it), in milliseconds. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const body = text.replace(/^[-+]/, '');
  if (body === '') return undefined;
  let total = 0;
  let end = 0;
  for (const m of body.matchAll(re)) {
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    end = (m.index ?? 0) + m[0].length;
  }
  if (end !== body.length) return undefined;
  return text.startsWith('-') ? -total : total;
}

function validatePipelines(w: Where, value: unknown, field: string, idPrefix: string): void {
  const seen = new Set<string>();
  optList(w, value, field).forEach((p, i) => {
    const pField = at(field, i);
    const pipeline = map(w, p, pField);
    exact(w, pipeline.apiVersion, `${pField}.apiVersion`, 'platform.kratix.io/v1alpha1');
    exact(w, pipeline.kind, `${pField}.kind`, 'Pipeline');
    const meta = map(w, pipeline.metadata, `${pField}.metadata`);
    const name = objectName(w, meta.name, `${pField}.metadata.name`, LABELS.pipelineName);
    // Pipeline names key their Works and jobs, so two with one name would overwrite each other.
    if (seen.has(name)) fail(w, `${pField}.metadata.name`, `a name unique in ${field}`, name);
    seen.add(name);
    const id = `${idPrefix}-${name}`;
    if (id.length > MAX_PIPELINE_ID_LENGTH) {
      fail(
        w,
        `${pField}.metadata.name`,
        `a name for which "${id}" has at most ${MAX_PIPELINE_ID_LENGTH} characters ` +
          `(Kratix names the pipeline's ServiceAccount "<promise>-<type>-<action>-<pipeline>")`,
        `${name} (${id.length} characters in total)`,
      );
    }
    if (meta.labels !== undefined) labels(w, meta.labels, `${pField}.metadata.labels`);
    if (meta.annotations !== undefined)
      stringMap(w, meta.annotations, `${pField}.metadata.annotations`);
    validatePipeline(w, pipeline, pField);
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
  // Kratix decodes spec.api into a CRD without looking at apiVersion, so `v1beta1` or none
  // loads there; the CRD is always served as apiextensions.k8s.io/v1 (resource-api.ts).
  if (api.apiVersion !== undefined) str(w, api.apiVersion, `${field}.apiVersion`);
  const meta = map(w, api.metadata, `${field}.metadata`);
  const crdName = objectName(w, meta.name, `${field}.metadata.name`);
  const spec = map(w, api.spec, `${field}.spec`);
  const group = objectName(w, spec.group, `${field}.spec.group`);
  const names = map(w, spec.names, `${field}.spec.names`);
  str(w, names.kind, `${field}.spec.names.kind`);
  const plural = str(w, names.plural, `${field}.spec.names.plural`);
  optStr(w, names.singular, `${field}.spec.names.singular`);
  // Kubernetes refuses a CRD whose name is not `<plural>.<group>`.
  if (crdName !== `${plural}.${group}`) {
    fail(w, `${field}.metadata.name`, `${plural}.${group}`, crdName);
  }
  const scope = optOneOf(w, spec.scope, `${field}.spec.scope`, ['Namespaced', 'Cluster']);
  if (scope === 'Cluster') {
    // Kratix's webhook: "promise api needs to be namespace scoped".
    fail(
      w,
      `${field}.spec.scope`,
      'Namespaced (a Promise API needs to be namespace scoped, as in Kratix)',
      scope,
    );
  }

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
    const schemaField = `${vField}.schema.openAPIV3Schema`;
    const openAPI = map(w, schema.openAPIV3Schema, schemaField);
    if (version.served !== true) return;
    // Checked now so a broken schema is refused with its Promise, not with its first request.
    const problem = schemaDefinitionProblem(openAPI);
    if (problem) fail(w, joinPath(schemaField, problem.field), problem.expected, problem.got);
    try {
      compiledSchema(openAPI);
    } catch (error) {
      fail(w, schemaField, `a valid OpenAPI v3 schema for ${name}`, (error as Error).message);
    }
    const cel = checkCelRules(openAPI);
    if (cel) fail(w, joinPath(schemaField, cel.field), cel.expected, cel.got);
  });
  if (served === 0) {
    fail(w, `${field}.spec.versions`, 'at least one version with served: true', 'none');
  }
  if (storage > 1) {
    fail(w, `${field}.spec.versions`, 'exactly one version with storage: true', String(storage));
  }
}

function joinPath(base: string, rest: string): string {
  if (rest === '') return base;
  return rest.startsWith('[') ? `${base}${rest}` : `${base}.${rest}`;
}
