import { LABELS } from './labels';
import type { KratixObject, KratixPromise } from './types';
import { crdOf } from './validate';

export const CRD_API_VERSION = 'apiextensions.k8s.io/v1';

/** Printer columns Kratix gives a Promise's API when the Promise names none. */
const DEFAULT_COLUMNS = [
  { name: 'Status', type: 'string', jsonPath: '.status.message' },
  {
    name: 'Reconciled',
    type: 'string',
    priority: 1,
    jsonPath: '.status.conditions[?(@.type=="Reconciled")].status',
  },
];

const STATUS_SCHEMA = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The CustomResourceDefinition a Promise's API is served with, as Kratix installs it: the
 * CRD of `spec.api` with a status subresource on every version (pipelines and Promiseflow
 * write status), a status schema that keeps whatever a pipeline's status.yaml holds, the
 * Promise's label, and default printer columns (`kubectl get mongodbs` shows STATUS).
 * Undefined when the Promise has no API.
 */
export function resourceApiDefinition(promise: KratixPromise): KratixObject | undefined {
  const info = crdOf(promise);
  const api = promise.spec?.api;
  if (!info || !isMap(api) || !isMap(api.spec)) return undefined;
  const spec = structuredClone(api.spec);
  // Kratix serves Promise APIs as namespaced objects; the field is required by the API server.
  spec.scope ??= 'Namespaced';
  const versions = Array.isArray(spec.versions) ? (spec.versions as unknown[]) : [];
  spec.versions = versions.map((raw) => {
    const version = isMap(raw) ? { ...raw } : {};
    const schema = isMap(version.schema) ? { ...version.schema } : {};
    const root: Json = isMap(schema.openAPIV3Schema)
      ? { ...schema.openAPIV3Schema }
      : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    root.type ??= 'object';
    const properties = isMap(root.properties) ? { ...root.properties } : {};
    if (!isMap(properties.status)) properties.status = STATUS_SCHEMA;
    // A request without a spec schema is still a valid object to store.
    if (!isMap(properties.spec) && root['x-kubernetes-preserve-unknown-fields'] !== true) {
      properties.spec = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    }
    root.properties = properties;
    schema.openAPIV3Schema = root;
    version.schema = schema;
    version.subresources = { ...(isMap(version.subresources) ? version.subresources : {}) };
    (version.subresources as Json).status ??= {};
    const columns = version.additionalPrinterColumns;
    if (!Array.isArray(columns) || columns.length === 0) {
      version.additionalPrinterColumns = DEFAULT_COLUMNS;
    }
    return version;
  });
  const metadata: Json = isMap(api.metadata) ? api.metadata : {};
  return {
    apiVersion: CRD_API_VERSION,
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${info.group}`,
      labels: {
        ...(isMap(metadata.labels) ? (metadata.labels as Record<string, string>) : {}),
        [LABELS.promiseName]: promise.metadata.name,
      },
    },
    spec,
  };
}

/** Name of the CRD serving a Promise's API (`mongodbs.promise.kratix.io`). */
export function resourceApiName(promise: KratixPromise): string | undefined {
  const info = crdOf(promise);
  return info ? `${info.plural}.${info.group}` : undefined;
}
