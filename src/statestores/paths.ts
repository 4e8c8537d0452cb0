import * as path from 'node:path';

/**
 * Root-relative paths inside a state store. Both writers refuse anything that could leave
 * the store; Git also refuses `.git`, which would rewrite the clone's own repository.
 */

function normalise(p: string): string {
  const norm = path.posix.normalize(p.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  return norm === '.' || norm === './' ? '' : norm.replace(/\/+$/, '');
}

/**
 * Normalises a root-relative path for a Git work tree; refuses anything that could escape
 * it or touch `.git`. Returns '' for the root itself.
 */
export function safeRelativePath(p: string, what = 'path'): string {
  const trimmed = normalise(p);
  if (trimmed.startsWith('/') || trimmed.split('/').some((s) => s === '..')) {
    throw new Error(`${what} "${p}" must stay inside the state store`);
  }
  if (trimmed.split('/').some((s) => s === '.git')) {
    throw new Error(`${what} "${p}" may not touch .git`);
  }
  return trimmed;
}

/** An S3 key without leading `./` or `/`; refuses `..`. '' is the root. */
export function normalizeKey(p: string, what: string): string {
  const key = normalise(p).replace(/^\/+/, '');
  if (key.split('/').some((s) => s === '..')) {
    throw new Error(`${what} "${p}" must stay inside the state store`);
  }
  return key;
}
