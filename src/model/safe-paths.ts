/**
 * Rules for the strings that later become paths in a state store: Destination and
 * state-store `spec.path`, `filepath.filename`, and the names of a pipeline's output files.
 * A path that escapes the store (`..`), that Git will not hold (`.git`, `git~1`), or that a
 * writer would read differently (`\`, control characters) is refused where it enters, so
 * it never reaches a writer and fails there on every reconcile. Pure.
 */
import type { Refusal } from './names';

export const STORE_PATH_RULE =
  'a path inside the state store ("/"-separated, without "..", ".git", "\\" or control characters)';

/**
 * True for a path component Git refuses in a work tree: `.git` in any case, and the forms
 * Windows and macOS file systems read as `.git` (trailing dots or spaces, `git~1`, `:stream`),
 * which Git refuses on every platform by default (core.protectNTFS).
 */
export function isGitReservedSegment(segment: string): boolean {
  return /^(\.git|git~1)[. ]*(:.*)?$/i.test(segment);
}

/** Why `text` is not a path a state store can hold, or undefined. Checks every component. */
function pathProblem(text: string): string | undefined {
  // The writers read `\` as a separator, so `..\..` would escape after all.
  if (text.includes('\\')) return 'contains "\\"';
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(text)) return 'contains a control character';
  for (const segment of text.split('/')) {
    if (segment === '..') return 'contains ".."';
    if (isGitReservedSegment(segment)) return `contains "${segment}", which Git reserves`;
  }
  return undefined;
}

/**
 * A directory inside the state store (`Destination.spec.path`, a state store's `spec.path`).
 * A leading `/` means the store's root, as in Kratix; `.` and empty parts are ignored.
 */
export function storePathRefusal(text: string): Refusal | undefined {
  const problem = pathProblem(text);
  return problem === undefined
    ? undefined
    : { expected: STORE_PATH_RULE, got: `${shown(text)} (${problem})` };
}

/** A file inside the Destination's directory (`filepath.filename`): relative, naming a file. */
export function storeFileRefusal(text: string): Refusal | undefined {
  const expected =
    'a relative file path inside the Destination\'s directory (without "..", ".git", "\\" or control characters)';
  const problem = pathProblem(text);
  if (problem !== undefined) return { expected, got: `${shown(text)} (${problem})` };
  if (text.startsWith('/')) return { expected, got: `${text} (absolute)` };
  if (text.split('/').every((p) => p === '' || p === '.') || text.endsWith('/')) {
    return { expected, got: `${shown(text)} (not a file name)` };
  }
  return undefined;
}

/**
 * Why a file a pipeline wrote (`relPath`, relative to /kratix/output) cannot be delivered,
 * or undefined. The file system already rules out `..` and empty names.
 */
export function outputPathProblem(relPath: string): string | undefined {
  const problem = pathProblem(relPath);
  return problem === undefined ? undefined : `${problem}, so no state store can hold it`;
}

function shown(text: string): string {
  return text === '' ? 'empty string' : JSON.stringify(text).slice(1, -1);
}
