import YAML, { LineCounter, parseAllDocuments, stringify, type Document } from 'yaml';
import { InvalidInputError } from './errors';
import type { KratixObject } from './types';

/**
 * Turns Kratix YAML text into objects, and objects back into YAML. Pure: reading the file is
 * `load-file.ts`'s job, so workflows, activities and tests can parse text from anywhere.
 */

/** YAML 1.2 core schema keeps `yes`/`on`/`0777` as written, as Kubernetes users quote them. */
const PARSE_OPTIONS = { merge: true, prettyErrors: false } as const;

/**
 * Parses every document of `text` (a file's content; `file` only names it in errors).
 * A file without any object is refused. Empty documents are skipped and `kind: List` documents are expanded into their items, as
 * `kubectl apply -f` does. Each object must carry `apiVersion`, `kind` and `metadata.name`;
 * anything deeper is left to `validate.ts`.
 */
export function parseKratixYaml(text: string, file: string): KratixObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter });
  // Syntax first: a file that is not YAML is refused as a whole, before any object in it.
  docs.forEach((doc, index) => {
    const error = doc.errors[0];
    if (!error) return;
    const pos = lineCounter.linePos(error.pos[0]);
    throw new InvalidInputError({
      file,
      object: `document ${index + 1}`,
      field: `line ${pos.line}, column ${pos.col}`,
      expected: 'valid YAML',
      got: firstLine(error.message),
    });
  });

  const objects: KratixObject[] = [];
  let lists = 0;
  docs.forEach((doc, index) => {
    const where = `document ${index + 1}`;
    if (doc.contents === null) return;
    const value = toJS(doc, file, where);
    if (value === null || value === undefined) return;

    if (isMap(value) && value.kind === 'List' && value.items !== undefined) {
      lists++;
      if (!Array.isArray(value.items)) {
        throw new InvalidInputError({
          file,
          object: where,
          field: 'items',
          expected: 'a list of objects',
          got: typeName(value.items),
        });
      }
      value.items.forEach((item, i) =>
        objects.push(asKratixObject(item, file, where, `items[${i}].`)),
      );
      return;
    }
    objects.push(asKratixObject(value, file, where, ''));
  });
  // `kubectl apply` refuses a file with nothing in it too: applying it is almost always a
  // mistake (wrong file, a template rendered empty), and exit 0 would hide it.
  if (objects.length === 0) {
    throw new InvalidInputError({
      file,
      expected: 'at least one Kubernetes object',
      got:
        lists > 0
          ? 'only empty Lists'
          : text.trim() === ''
            ? 'an empty file'
            : 'only comments and "---"',
    });
  }
  return objects;
}

/**
 * Aliases are expanded here, so a small file of nested aliases (a "billion laughs" bomb)
 * would grow to gigabytes: the yaml library stops past `MAX_ALIAS_COUNT` expansions.
 */
const MAX_ALIAS_COUNT = 1000;

function toJS(doc: Document.Parsed, file: string, where: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = firstLine((error as Error).message);
    throw new InvalidInputError({
      file,
      object: where,
      ...(/alias count/i.test(message)
        ? {
            expected: `YAML whose aliases expand to a bounded size (at most ${MAX_ALIAS_COUNT} alias expansions)`,
            got: 'aliases that expand exponentially (a "billion laughs" alias bomb)',
          }
        : { expected: 'valid YAML', got: message }),
    });
  }
}

/** Objects as YAML documents separated by `---`, without anchors, long lines unfolded. */
export function toYaml(objects: readonly unknown[]): string {
  return objects
    .map((o) => stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 }))
    .join('---\n');
}

function asKratixObject(value: unknown, file: string, where: string, prefix: string): KratixObject {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new InvalidInputError({
      file,
      object: where,
      field: `${prefix}${field}`.replace(/\.$/, ''),
      expected,
      got: got === undefined ? 'nothing (required property missing)' : typeName(got),
    });
  };
  if (!isMap(value)) return fail('', 'a Kubernetes object (a mapping)', value);
  if (!isNonEmptyString(value.apiVersion)) fail('apiVersion', 'string', value.apiVersion);
  if (!isNonEmptyString(value.kind)) fail('kind', 'string', value.kind);
  if (!isMap(value.metadata)) fail('metadata', 'object', value.metadata);
  const metadata = value.metadata as Record<string, unknown>;
  if (!isNonEmptyString(metadata.name)) fail('metadata.name', 'string', metadata.name);

  // Kubernetes reads `creationTimestamp: null` (as `kubectl create --dry-run` writes it) as
  // absent; dropping nulls here keeps metadata true to its type.
  const cleaned = Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== null));
  return { ...value, metadata: cleaned } as KratixObject;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** How a value reads in "got …": its JSON type, or `""` for an empty string. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value === '') return 'empty string';
  return typeof value;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** One YAML document of a settings file (config, image table); its first error line if bad. */
export function parseYamlDocument(text: string, file: string): unknown {
  try {
    return YAML.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError({
      file,
      expected: 'YAML',
      got: (err as Error).message.split('\n')[0],
    });
  }
}
