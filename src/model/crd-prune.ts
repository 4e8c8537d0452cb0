/**
 * Pruning as the Kubernetes API server does it for a structural CRD schema: fields the
 * schema does not declare are dropped, except below `x-kubernetes-preserve-unknown-fields`
 * and in an embedded resource's apiVersion/kind/metadata. Pure: works on a copy it is given.
 */
import { at, isMap, type Json } from './field-checks';

/** Object fields the API server owns at the root of every object. */
const ROOT_FIELDS = ['apiVersion', 'kind', 'metadata', 'status'];
const EMBEDDED_FIELDS = ['apiVersion', 'kind', 'metadata'];

/** Removes undeclared fields from `value` in place; returns the paths it removed. */
export function pruneUnknownFields(value: Json, schema: Json): string[] {
  const pruned: string[] = [];
  pruneObject(value, schema, '', ROOT_FIELDS, pruned);
  return pruned;
}

function prune(value: unknown, schema: unknown, field: string, pruned: string[]): void {
  if (!isMap(schema)) return;
  if (isMap(value)) {
    const keep = schema['x-kubernetes-embedded-resource'] === true ? EMBEDDED_FIELDS : [];
    pruneObject(value, schema, field, keep, pruned);
  } else if (Array.isArray(value) && isMap(schema.items)) {
    value.forEach((item, i) => prune(item, schema.items, `${field}[${i}]`, pruned));
  }
}

function pruneObject(
  value: Json,
  schema: Json,
  field: string,
  keep: string[],
  pruned: string[],
): void {
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const props = isMap(schema.properties) ? schema.properties : {};
  const extra = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    const path = at(field, key);
    if (isMap(props[key])) prune(value[key], props[key], path, pruned);
    else if (isMap(extra)) prune(value[key], extra, path, pruned);
    else if (!preserve && extra !== true && !keep.includes(key)) {
      delete value[key];
      pruned.push(path);
    }
  }
}
