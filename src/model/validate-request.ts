/**
 * Resource requests: checked against the `openAPIV3Schema` of the CRD in their Promise's
 * `spec.api`, as the Kubernetes API server would: unknown fields pruned, defaults filled in,
 * the schema checked (every error collected), then the CEL rules evaluated. Pure.
 */
import { evaluateCelRules } from './crd-cel';
import { crdOf, crdVersions } from './crd-info';
import { pruneUnknownFields } from './crd-prune';
import { compiledSchema, schemaProblems } from './crd-schema';
import { exact, fail, header, isMap } from './field-checks';
import { LABELS } from './labels';
import type { KratixObject, KratixPromise, PromiseSpec } from './types';

/** How many schema errors a refusal lists before "and N more". */
const ERRORS_LISTED = 3;

export interface RequestValidationOptions {
  /** Told about what was accepted with a change, e.g. each pruned field. */
  onWarning?: (message: string) => void;
}

/**
 * A resource request for `promise`: apiVersion `<group>/<served version>`, the CRD's kind, and
 * a body valid against that version's `openAPIV3Schema`. Returns a copy as the Kubernetes API
 * server stores it: fields the schema does not declare pruned (each reported to
 * `onWarning`; `kubectl apply`'s default strict validation would refuse them instead), the
 * schema's `default`s filled in. The input is not changed. Every schema error is collected;
 * the message lists the first few.
 */
export function validateResourceRequest(
  obj: unknown,
  promise: KratixPromise | PromiseSpec,
  file?: string,
  options: RequestValidationOptions = {},
): KratixObject {
  const crd = crdOf(promise);
  const kind = isMap(obj) && typeof obj.kind === 'string' ? obj.kind : (crd?.kind ?? 'resource');
  // The name is copied into the label kratix.io/resource-name of its Works and placements.
  const [o, w] = header(obj, file, kind, LABELS.resourceName);
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
  if (isMap(schema) && isMap(schema.openAPIV3Schema)) {
    for (const field of pruneUnknownFields(copy, openAPI)) {
      options.onWarning?.(
        `${[w.file, w.object, field].filter(Boolean).join(': ')}: unknown field, pruned (the ${crd.kind} schema does not declare it)`,
      );
    }
  }
  const validateFn = compiledSchema(openAPI);
  if (validateFn(copy)) {
    const cel = evaluateCelRules(openAPI, copy);
    if (cel) fail(w, cel.field, cel.expected, cel.got);
    return copy as KratixObject;
  }

  const problems = schemaProblems(validateFn.errors ?? []);
  const first = problems[0];
  if (problems.length === 1 && first) fail(w, first.field, first.expected, first.got);
  const listed = problems
    .slice(0, ERRORS_LISTED)
    .map((p) => `${p.field}: expected ${p.expected}, got ${p.got}`);
  if (problems.length > ERRORS_LISTED) listed.push(`and ${problems.length - ERRORS_LISTED} more`);
  fail(w, '', `a valid ${crd.kind}`, `${problems.length} errors: ${listed.join('; ')}`);
}
