import { listedMessages } from '../../src/statestores/commit-message';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs git with no user/system config leaking in; returns stdout. */
export async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    },
  });
  return stdout;
}

/**
 * Creates an empty bare repository (no branches yet) that accepts pushes over smart HTTP
 * too; returns its file:// URL.
 */
export async function createBareRepo(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await git(['init', '-q', '--bare', '-b', 'main', dir]);
  await git(['config', 'http.receivepack', 'true'], dir);
  return pathToFileURL(dir).toString();
}

/**
 * Commit messages on `branch`, newest first, a grouped commit as the batch messages it
 * lists; [] when the branch does not exist.
 */
export async function commitMessages(bareDir: string, branch = 'main'): Promise<string[]> {
  try {
    const out = await git(['log', '--format=%B%x00', `refs/heads/${branch}`, '--'], bareDir);
    return out
      .split('\0')
      .filter((m) => m.trim() !== '')
      .flatMap((m) => listedMessages(m.trim()));
  } catch {
    return [];
  }
}

/** `name <email>` of the newest commit on `branch`. */
export async function lastAuthor(bareDir: string, branch = 'main'): Promise<string> {
  return (
    await git(['log', '-1', '--format=%an <%ae>', `refs/heads/${branch}`, '--'], bareDir)
  ).trim();
}

/** All file paths on `branch`, sorted. */
export async function filesAt(bareDir: string, branch = 'main'): Promise<string[]> {
  const out = await git(['ls-tree', '-r', '--name-only', `refs/heads/${branch}`], bareDir);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

export async function fileAt(bareDir: string, file: string, branch = 'main'): Promise<string> {
  return git(['show', `refs/heads/${branch}:${file}`], bareDir);
}
