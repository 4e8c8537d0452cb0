import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../model/errors';
import { parseKratixYaml } from '../model/load';
import type { KratixObject } from '../model/types';
import { plainKubernetesObject } from '../model/validate';

export interface LoadOptions {
  /**
   * Given, plain Kubernetes objects (a Namespace beside a Promise) are left out and each is
   * reported here, so the rest of the file loads; a file of nothing else is refused.
   */
  onSkipped?: (message: string) => void;
}

/** The CLI's door: read a file (or stdin for `-`) and parse it. */
export async function loadKratixFile(
  path: string | '-',
  options: LoadOptions = {},
): Promise<KratixObject[]> {
  const objects = await readObjects(path);
  const { onSkipped } = options;
  if (!onSkipped) return objects;
  const kept = objects.filter((o) => {
    const skipped = plainKubernetesObject(o);
    if (skipped) onSkipped(`${path === '-' ? '<stdin>' : path}: ${skipped}`);
    return !skipped;
  });
  if (kept.length === 0) {
    throw new InvalidInputError({
      file: path === '-' ? '<stdin>' : path,
      expected: 'at least one Kratix object, Secret or ConfigMap',
      got: `only plain Kubernetes objects (${objects.map((o) => `${o.kind} "${o.metadata.name}"`).join(', ')})`,
    });
  }
  return kept;
}

async function readObjects(path: string | '-'): Promise<KratixObject[]> {
  if (path === '-') return parseKratixYaml(await readStdin(), '<stdin>');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // A missing or unreadable file is the user's input being wrong, not an engine failure.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' || code === 'ENOTDIR') {
      throw new InvalidInputError({ file: path, expected: 'a readable file', got: code });
    }
    throw error;
  }
  return parseKratixYaml(text, path);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}
