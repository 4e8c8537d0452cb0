import { readFile } from 'node:fs/promises';
import { InvalidInputError } from './errors';
import { parseKratixYaml } from './load';
import type { KratixObject } from './types';

/** The one place model/ touches the file system: read a file (or stdin for `-`) and parse it. */
export async function loadKratixFile(path: string | '-'): Promise<KratixObject[]> {
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
