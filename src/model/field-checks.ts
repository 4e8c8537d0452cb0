/**
 * Small checkers the validators are built from: each takes where the object came from and
 * the dotted field path, and returns the typed value or throws one `InvalidInputError`
 * naming file, object, field, what was expected and what was got. Pure.
 */
import { describeObject, InvalidInputError } from './errors';
import {
  dnsLabelRefusal,
  labelKeyRefusal,
  labelValueRefusal,
  nameRefusal,
  type Refusal,
} from './names';
import { storeFileRefusal, storePathRefusal } from './safe-paths';
import { PLATFORM_API_VERSION, type DestinationSelector } from './types';

export const MISSING = 'nothing (required property missing)';

export type Json = Record<string, unknown>;

export interface Where {
  file?: string;
  /** e.g. `Promise "mongodb"` */
  object: string;
}

export function fail(w: Where, field: string, expected: string, got?: string): never {
  throw new InvalidInputError({ file: w.file, object: w.object, field, expected, got });
}

export function refuse(w: Where, field: string, refusal: Refusal | undefined): void {
  if (refusal) fail(w, field, refusal.expected, refusal.got);
}

export function isMap(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a value reads after "got": its JSON type, or that the field is missing. */
export function typeName(value: unknown): string {
  if (value === undefined) return MISSING;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function shown(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'empty string' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeName(value);
}

/** `spec.users[0]["kratix.io/x"]`: keys that are not plain identifiers are quoted. */
export function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  if (base === '') return part === key ? key : `[${part}]`;
  return part === key ? `${base}.${key}` : `${base}[${part}]`;
}

export function map(w: Where, value: unknown, field: string): Json {
  if (!isMap(value)) fail(w, field, 'object', typeName(value));
  return value;
}

export function optMap(w: Where, value: unknown, field: string): Json | undefined {
  return value === undefined ? undefined : map(w, value, field);
}

export function list(w: Where, value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(w, field, 'list', typeName(value));
  return value;
}

export function optList(w: Where, value: unknown, field: string): unknown[] {
  return value === undefined || value === null ? [] : list(w, value, field);
}

export function str(w: Where, value: unknown, field: string): string {
  if (typeof value !== 'string') fail(w, field, 'string', typeName(value));
  if (value === '') fail(w, field, 'non-empty string', 'empty string');
  return value;
}

export function optStr(w: Where, value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(w, field, 'string', typeName(value));
  return value;
}

export function optBool(w: Where, value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    fail(w, field, 'boolean', typeName(value));
  }
}

export function oneOf<T extends string>(
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

export function optOneOf<T extends string>(
  w: Where,
  value: unknown,
  field: string,
  allowed: readonly T[],
): T | undefined {
  return value === undefined ? undefined : oneOf(w, value, field, allowed);
}

export function exact(w: Where, value: unknown, field: string, expected: string): void {
  if (value !== expected) fail(w, field, expected, shown(value));
}

export function stringMap(w: Where, value: unknown, field: string): Record<string, string> {
  const m = map(w, value, field);
  for (const [key, v] of Object.entries(m)) {
    if (typeof v !== 'string') fail(w, at(field, key), 'string', typeName(v));
  }
  return m as Record<string, string>;
}

/**
 * An object name: a DNS-1123 subdomain (at most 253 characters), or at most 63 when
 * Promiseflow copies it into the label `label`.
 */
export function objectName(w: Where, value: unknown, field: string, label?: string): string {
  const name = str(w, value, field);
  refuse(w, field, nameRefusal(name, label));
  return name;
}

export function dnsLabel(w: Where, value: unknown, field: string): string {
  const name = str(w, value, field);
  refuse(w, field, dnsLabelRefusal(name));
  return name;
}

/** Label keys (`[prefix/]name`) and values as Kubernetes accepts them. */
export function labels(w: Where, value: unknown, field: string): Record<string, string> {
  const m = stringMap(w, value, field);
  for (const [key, v] of Object.entries(m)) {
    refuse(w, at(field, key), labelKeyRefusal(key) ?? labelValueRefusal(v));
  }
  return m;
}

/** Annotation keys follow the label-key rules; their values are free text. */
export function annotations(w: Where, value: unknown, field: string): void {
  for (const key of Object.keys(stringMap(w, value, field))) {
    refuse(w, at(field, key), labelKeyRefusal(key));
  }
}

/** A directory inside a state store (`spec.path`); undefined and '' mean the root. */
export function storePath(w: Where, value: string, field: string): string {
  refuse(w, field, storePathRefusal(value));
  return value;
}

export function storeFile(w: Where, value: string, field: string): string {
  refuse(w, field, storeFileRefusal(value));
  return value;
}

/** A path inside the output directory: relative, no `..`; returned without `./` or trailing `/`. */
export function relativePath(w: Where, value: string, field: string): string {
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

/** apiVersion, kind and metadata of any object; returns where it is for later messages. */
export function header(
  obj: unknown,
  file: string | undefined,
  fallbackKind: string,
  nameLabel?: string,
): [Json, Where] {
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
  objectName(w, metadata.name, 'metadata.name', nameLabel);
  if (metadata.namespace !== undefined) dnsLabel(w, metadata.namespace, 'metadata.namespace');
  if (metadata.labels !== undefined) labels(w, metadata.labels, 'metadata.labels');
  if (metadata.annotations !== undefined) {
    annotations(w, metadata.annotations, 'metadata.annotations');
  }
  return [obj, w];
}

export function platformHeader(
  obj: unknown,
  file: string | undefined,
  kind: string,
  nameLabel?: string,
): [Json, Where] {
  const [o, w] = header(obj, file, kind, nameLabel);
  exact(w, o.apiVersion, 'apiVersion', PLATFORM_API_VERSION);
  exact(w, o.kind, 'kind', kind);
  return [o, w];
}

export function secretRef(w: Where, value: unknown, field: string): void {
  if (value === undefined) return;
  const ref = map(w, value, field);
  objectName(w, ref.name, `${field}.name`);
  if (ref.namespace !== undefined) dnsLabel(w, ref.namespace, `${field}.namespace`);
}

/** `{matchLabels?}`: Kratix's CRDs make matchLabels optional (no labels select everything). */
export function matchLabelsSelector(w: Where, value: unknown, field: string): DestinationSelector {
  const s = map(w, value, field);
  if (s.matchLabels !== undefined && s.matchLabels !== null) {
    labels(w, s.matchLabels, `${field}.matchLabels`);
  }
  return s as DestinationSelector;
}

/**
 * Refuses keys a Go struct does not have, as Kratix decodes Pipelines (`DisallowUnknownFields`):
 * a typo such as `imagePullPolicey` would otherwise be silently dropped.
 */
export function knownKeys(w: Where, value: Json, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      fail(w, at(field, key), `one of the fields ${allowed.join(', ')}`, `unknown field "${key}"`);
    }
  }
}
