/**
 * The image table: how the local pipeline runner turns a container `image` into a program on
 * this machine, since it runs no container engine.
 *
 * File format (YAML):
 *
 * ```yaml
 * images:
 *   ghcr.io/syntasso/kratix-marketplace/mongodb-configure-pipeline:v0.1.0:
 *     program: mongodb/pipelines/v0.1.0/execute-pipeline   # relative to this file
 *     args: []                                              # optional: the image's default CMD
 * ```
 *
 * `program` plays the image's ENTRYPOINT and `args` its CMD: a container's `command` replaces
 * both, its `args` replaces only `args` (Kubernetes semantics).
 *
 * For the container runner an entry may name `image:`, the local OCI image that stands in for
 * the reference (`localhost/promiseflow-examples/...`, built by scripts/build-images.sh), so
 * example Promises keep their marketplace image names and no local image ever shadows a
 * real registry's name. References without an entry are run as they are.
 *
 * Lookup is by exact image reference. The only fallback is Docker's own equivalence of a
 * tag-less reference with `:latest`; `repo:v2` never falls back to `repo` or `repo:v1`, because
 * silently running another version of a pipeline is worse than failing.
 */
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../model/errors';
import { parseYamlDocument } from '../model/load';

export interface ImageEntry {
  /** Absolute path of the executable that stands in for the image (local runner). */
  program?: string;
  /** Default arguments (the image's CMD). */
  args: string[];
  /** Local OCI image that stands in for the reference (container runner). */
  image?: string;
}

export interface ImageTable {
  /** Absolute path of the file the table was loaded from (named in errors). */
  file: string;
  images: Record<string, ImageEntry>;
}

/** Validates a parsed table document; `program` paths are resolved against `file`'s directory. */
export function parseImageTable(doc: unknown, file: string): ImageTable {
  const absFile = path.resolve(file);
  const baseDir = path.dirname(absFile);
  if (!isRecord(doc) || !isRecord(doc.images)) {
    throw new InvalidInputError({
      file: absFile,
      field: 'images',
      expected: 'a mapping of image reference to {program, args?}',
      got: describe(isRecord(doc) ? doc.images : doc),
    });
  }
  const images: Record<string, ImageEntry> = {};
  for (const [ref, raw] of Object.entries(doc.images)) {
    const field = `images["${ref}"]`;
    const image = isRecord(raw) ? raw.image : undefined;
    if (image !== undefined && (typeof image !== 'string' || image === '')) {
      throw new InvalidInputError({
        file: absFile,
        field: `${field}.image`,
        expected: 'a local image reference (e.g. localhost/name:tag)',
        got: describe(image),
      });
    }
    const hasProgram = isRecord(raw) && raw.program !== undefined;
    if (
      !isRecord(raw) ||
      (hasProgram ? typeof raw.program !== 'string' || raw.program === '' : image === undefined)
    ) {
      throw new InvalidInputError({
        file: absFile,
        field: `${field}.program`,
        expected:
          'a path to an executable, relative to the table file (or an image: for the container runner)',
        got: describe(isRecord(raw) ? raw.program : raw),
      });
    }
    const args = raw.args ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
      throw new InvalidInputError({
        file: absFile,
        field: `${field}.args`,
        expected: 'a list of strings',
        got: describe(args),
      });
    }
    images[ref] = {
      ...(hasProgram ? { program: path.resolve(baseDir, raw.program as string) } : {}),
      args: [...args],
      ...(typeof image === 'string' ? { image } : {}),
    };
  }
  return { file: absFile, images };
}

/** Pure lookup: the exact reference, else its tag-less / `:latest` twin. */
export function lookupImage(table: ImageTable, image: string): ImageEntry | undefined {
  const exact = table.images[image];
  if (exact) return exact;
  for (const alt of latestAliases(image)) {
    const entry = table.images[alt];
    if (entry) return entry;
  }
  return undefined;
}

/** Reads, parses and validates a table; every program must exist and be executable. */
export async function loadImageTable(file: string): Promise<ImageTable> {
  const absFile = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absFile, 'utf8');
  } catch (err) {
    throw new InvalidInputError({
      file: absFile,
      expected: 'a readable image table file',
      got: (err as Error).message,
    });
  }
  const doc = parseYamlDocument(text, absFile);
  const table = parseImageTable(doc, absFile);
  for (const [ref, entry] of Object.entries(table.images)) {
    if (entry.program === undefined) continue;
    try {
      await access(entry.program, constants.X_OK);
    } catch {
      throw new InvalidInputError({
        file: absFile,
        field: `images["${ref}"].program`,
        expected: 'an existing executable file',
        got: entry.program,
      });
    }
  }
  return table;
}

/** `repo` ↔ `repo:latest`; digests and other tags have no alias. */
function latestAliases(image: string): string[] {
  if (image.includes('@')) return [];
  if (image.endsWith(':latest')) return [image.slice(0, -':latest'.length)];
  // A colon after the last slash is a tag; before it, a registry port (`host:5000/repo`).
  const lastSlash = image.lastIndexOf('/');
  const hasTag = image.indexOf(':', lastSlash + 1) !== -1;
  return hasTag ? [] : [`${image}:latest`];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  return Array.isArray(v) ? 'a list' : `${typeof v} ${JSON.stringify(v)}`;
}
