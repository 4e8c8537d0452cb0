/**
 * A Promise's CRD schemas as request validators: one ajv, validators cached by schema text,
 * and ajv's errors turned into field / expected / got. Pure: no I/O, no clock.
 *
 * Longer than most modules (~400 lines) because ajv's error shapes are many and each gets
 * its own readable message here, in one place.
 */
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { at, isMap, MISSING, typeName, type Json } from './field-checks';

export interface SchemaProblem {
  field: string;
  expected: string;
  got: string;
}

type Problem = SchemaProblem;

const INT_OR_STRING = 'x-kubernetes-int-or-string';

/** ajv's errors as field/expected/got, with each failed `anyOf` reported once. */
export function schemaProblems(errors: ErrorObject[]): Problem[] {
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
// The schema itself, checked as the API server checks a CRD, so a typo is named in YAML terms.

/** The types a Kubernetes structural schema may use (no `null`, unlike JSON Schema). */
const SCHEMA_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'multipleOf'];
const COUNT_KEYWORDS = [
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
];
const BOOL_KEYWORDS = [
  'exclusiveMinimum',
  'exclusiveMaximum',
  'uniqueItems',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
];

/**
 * The first mistake in a CRD's `openAPIV3Schema` (field relative to it, the bad value, what
 * Kubernetes allows), or undefined. Covers what people mistype: types, keywords' value types,
 * and the shape of properties/items/required/enum.
 */
export function schemaDefinitionProblem(schema: unknown, field = ''): Problem | undefined {
  if (!isMap(schema)) return { field, expected: 'a schema (an object)', got: typeName(schema) };
  const sub = (key: string | number, base = field) => at(base, key);
  if (schema.type !== undefined && !SCHEMA_TYPES.includes(schema.type as string)) {
    return {
      field: sub('type'),
      expected: `one of ${SCHEMA_TYPES.join(', ')}`,
      got: typeof schema.type === 'string' ? JSON.stringify(schema.type) : typeName(schema.type),
    };
  }
  for (const key of NUMBER_KEYWORDS) {
    if (schema[key] !== undefined && typeof schema[key] !== 'number') {
      return { field: sub(key), expected: 'number', got: shownValue(schema[key]) };
    }
  }
  for (const key of COUNT_KEYWORDS) {
    const v = schema[key];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) {
      return { field: sub(key), expected: 'an integer of at least 0', got: shownValue(v) };
    }
  }
  for (const key of BOOL_KEYWORDS) {
    if (schema[key] !== undefined && typeof schema[key] !== 'boolean') {
      return { field: sub(key), expected: 'boolean', got: shownValue(schema[key]) };
    }
  }
  for (const key of ['pattern', 'format', 'description', 'title'] as const) {
    if (schema[key] !== undefined && typeof schema[key] !== 'string') {
      return { field: sub(key), expected: 'string', got: shownValue(schema[key]) };
    }
  }
  if (schema.required !== undefined) {
    if (!Array.isArray(schema.required)) {
      return {
        field: sub('required'),
        expected: 'a list of property names',
        got: shownValue(schema.required),
      };
    }
    const bad = schema.required.findIndex((r) => typeof r !== 'string');
    if (bad !== -1) {
      return {
        field: sub(bad, sub('required')),
        expected: 'string',
        got: shownValue(schema.required[bad]),
      };
    }
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) {
    return {
      field: sub('enum'),
      expected: 'a list of allowed values',
      got: shownValue(schema.enum),
    };
  }
  for (const key of ['properties', 'patternProperties'] as const) {
    const children = schema[key];
    if (children === undefined) continue;
    if (!isMap(children)) {
      return {
        field: sub(key),
        expected: 'a map of property name to schema',
        got: typeName(children),
      };
    }
    for (const [name, child] of Object.entries(children)) {
      const problem = schemaDefinitionProblem(child, sub(name, sub(key)));
      if (problem) return problem;
    }
  }
  if (schema.items !== undefined) {
    if (Array.isArray(schema.items)) {
      return {
        field: sub('items'),
        expected: 'one schema for every item (Kubernetes has no tuple schemas)',
        got: 'a list',
      };
    }
    const problem = schemaDefinitionProblem(schema.items, sub('items'));
    if (problem) return problem;
  }
  const extra = schema.additionalProperties;
  if (extra !== undefined && typeof extra !== 'boolean') {
    const problem = schemaDefinitionProblem(extra, sub('additionalProperties'));
    if (problem) return problem;
  }
  if (schema.not !== undefined) {
    const problem = schemaDefinitionProblem(schema.not, sub('not'));
    if (problem) return problem;
  }
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (branches === undefined) continue;
    if (!Array.isArray(branches)) {
      return { field: sub(key), expected: 'a list of schemas', got: typeName(branches) };
    }
    for (const [i, branch] of branches.entries()) {
      const problem = schemaDefinitionProblem(branch, sub(i, sub(key)));
      if (problem) return problem;
    }
  }
  return undefined;
}

function shownValue(value: unknown): string {
  if (value === undefined) return typeName(value);
  return JSON.stringify(value) ?? typeName(value);
}

// ---------------------------------------------------------------------------------------------
// Schema compilation: one ajv, compiled validators cached by schema text.

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

export function compiledSchema(openAPIV3Schema: Json): ValidateFunction {
  const key = JSON.stringify(openAPIV3Schema);
  const hit = validators.get(key);
  if (hit) return hit.fn;
  const schema = forRequests(openAPIV3Schema);
  let fn: ValidateFunction;
  try {
    fn = ajv().compile(schema);
  } catch (error) {
    throw new Error(readableCompileError((error as Error).message, schema));
  }
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

/** ajv's `schema is invalid: data/properties/x/minimum must be number` in YAML path terms. */
function readableCompileError(message: string, schema: Json): string {
  const m = /^schema is invalid: data(\S*) (must .*?)(?:, data\/.*)?$/s.exec(message);
  if (!m) return message;
  const pointer = m[1] ?? '';
  let value: unknown = schema;
  for (const seg of pointer.split('/').slice(1)) {
    value = isMap(value) ? value[seg] : Array.isArray(value) ? value[Number(seg)] : undefined;
  }
  const field = pointerToPath(pointer) || '(the schema)';
  return `${field} ${m[2] ?? ''}, got ${JSON.stringify(value) ?? 'nothing'}`;
}
