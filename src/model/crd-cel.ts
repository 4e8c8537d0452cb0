/**
 * CEL validation rules of a CRD schema (`x-kubernetes-validations`), checked when the Promise
 * is loaded and evaluated on every request, as the Kubernetes API server does. Rules are
 * never skipped: one Promiseflow cannot evaluate (a transition rule on `oldSelf`, a
 * Kubernetes-only library function such as `isSorted` or `quantity`) refuses its Promise
 * with "not supported", naming the rule. Evaluation uses @marcbachmann/cel-js (the CEL spec's
 * standard macros and functions, the strings extension, `matches`). Pure.
 */
import { parse } from '@marcbachmann/cel-js';
import { at, isMap, type Json } from './field-checks';

export interface CelProblem {
  field: string;
  expected: string;
  got: string;
}

const RULES = 'x-kubernetes-validations';
const RULE_KEYS = [
  'rule',
  'message',
  'messageExpression',
  'reason',
  'fieldPath',
  'optionalOldSelf',
];
const REASONS = [
  'FieldValueInvalid',
  'FieldValueForbidden',
  'FieldValueRequired',
  'FieldValueDuplicate',
];

type Compiled = ReturnType<typeof parse>;
const compiled = new Map<string, Compiled>();

function compile(expression: string): Compiled {
  let fn = compiled.get(expression);
  if (!fn) {
    fn = parse(expression);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(expression, fn);
  }
  return fn;
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim();
}

/** Why `expression` cannot be evaluated here, or undefined. */
function unsupported(expression: string): string | undefined {
  // Transition rules need the stored object; Promiseflow validates each apply on its own.
  if (/\boldSelf\b/.test(expression)) {
    return 'transition rules (oldSelf) are not supported';
  }
  try {
    const check = compile(expression).check();
    if (!check.valid) return firstLine(check.error?.message ?? 'does not type-check');
  } catch (error) {
    return firstLine((error as Error).message);
  }
  return undefined;
}

/** The first rule of `schema` (or its sub-schemas) that is malformed or cannot be evaluated. */
export function checkCelRules(schema: Json, field = ''): CelProblem | undefined {
  const rules = schema[RULES];
  if (rules !== undefined) {
    const rulesField = at(field, RULES);
    if (!Array.isArray(rules))
      return { field: rulesField, expected: 'a list of rules', got: typeof rules };
    for (const [i, raw] of rules.entries()) {
      const rField = `${rulesField}[${i}]`;
      if (!isMap(raw))
        return { field: rField, expected: 'a rule ({rule, message?})', got: typeof raw };
      const unknown = Object.keys(raw).find((k) => !RULE_KEYS.includes(k));
      if (unknown) {
        return {
          field: at(rField, unknown),
          expected: `one of the fields ${RULE_KEYS.join(', ')}`,
          got: `unknown field "${unknown}"`,
        };
      }
      if (typeof raw.rule !== 'string' || raw.rule.trim() === '') {
        return {
          field: `${rField}.rule`,
          expected: 'a CEL expression',
          got: JSON.stringify(raw.rule) ?? 'nothing',
        };
      }
      for (const key of ['rule', 'messageExpression'] as const) {
        const expression = raw[key];
        if (expression === undefined) continue;
        if (typeof expression !== 'string') {
          return {
            field: `${rField}.${key}`,
            expected: 'a CEL expression',
            got: typeof expression,
          };
        }
        const why = unsupported(expression);
        if (why) {
          return {
            field: `${rField}.${key}`,
            expected: 'a CEL expression Promiseflow can evaluate',
            got: `${JSON.stringify(expression)} (not supported: ${why})`,
          };
        }
      }
      if (raw.reason !== undefined && !REASONS.includes(raw.reason as string)) {
        return {
          field: `${rField}.reason`,
          expected: `one of ${REASONS.join(', ')}`,
          got: String(raw.reason),
        };
      }
    }
  }
  for (const [key, child] of children(schema)) {
    const problem = checkCelRules(
      child,
      key === '' ? field : `${field}${field && !key.startsWith('[') ? '.' : ''}${key}`,
    );
    if (problem) return problem;
  }
  return undefined;
}

/** Sub-schemas with their path suffix relative to this schema. */
function children(schema: Json): [string, Json][] {
  const out: [string, Json][] = [];
  for (const key of ['properties', 'patternProperties'] as const) {
    const props = schema[key];
    if (isMap(props)) {
      for (const [name, child] of Object.entries(props)) {
        if (isMap(child)) out.push([at(key, name), child]);
      }
    }
  }
  for (const key of ['items', 'additionalProperties', 'not'] as const) {
    if (isMap(schema[key])) out.push([key, schema[key] as Json]);
  }
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((b, i) => isMap(b) && out.push([`${key}[${i}]`, b]));
  }
  return out;
}

/** JSON as CEL sees it: integers are CEL ints (bigint), as Kubernetes passes int64 fields. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(toCel);
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

/**
 * Evaluates every rule whose field is present in `value` (a request, after defaulting), as
 * the API server does; returns the first that fails. `field` is the request path of `value`.
 */
export function evaluateCelRules(schema: Json, value: unknown, field = ''): CelProblem | undefined {
  const rules = schema[RULES];
  if (Array.isArray(rules)) {
    for (const raw of rules) {
      if (!isMap(raw) || typeof raw.rule !== 'string') continue;
      const self = toCel(value);
      let result: unknown;
      try {
        result = compile(raw.rule)({ self });
      } catch (error) {
        return {
          field: field || '(the object)',
          expected: `a value for which the rule ${JSON.stringify(raw.rule)} can be evaluated`,
          got: firstLine((error as Error).message),
        };
      }
      if (result === true) continue;
      const target = typeof raw.fieldPath === 'string' ? `${field}${raw.fieldPath}` : field;
      return {
        field: target || '(the object)',
        expected: messageOf(raw, self) ?? `a value satisfying the rule ${JSON.stringify(raw.rule)}`,
        got: shown(value),
      };
    }
  }
  if (isMap(value)) {
    const props = isMap(schema.properties) ? schema.properties : {};
    for (const [key, v] of Object.entries(value)) {
      const child = isMap(props[key])
        ? props[key]
        : isMap(schema.additionalProperties)
          ? schema.additionalProperties
          : undefined;
      if (!child) continue;
      const problem = evaluateCelRules(child, v, at(field, key));
      if (problem) return problem;
    }
  } else if (Array.isArray(value) && isMap(schema.items)) {
    for (const [i, v] of value.entries()) {
      const problem = evaluateCelRules(schema.items, v, `${field}[${i}]`);
      if (problem) return problem;
    }
  }
  return undefined;
}

function messageOf(rule: Json, self: unknown): string | undefined {
  if (typeof rule.messageExpression === 'string') {
    try {
      const text = compile(rule.messageExpression)({ self });
      if (typeof text === 'string' && text !== '') return text;
    } catch {
      // Kubernetes falls back to `message` when messageExpression fails.
    }
  }
  return typeof rule.message === 'string' && rule.message !== '' ? rule.message : undefined;
}

function shown(value: unknown): string {
  if (isMap(value)) return 'object';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return JSON.stringify(value) ?? 'nothing';
}
