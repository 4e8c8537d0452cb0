import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { alive, HOST } from './git-clone';

/**
 * Turn-taking between the writers of one remote branch on this host, so that they do not
 * all fetch, commit and push at once and then redo the work of every lost push race
 * (three worker processes racing for one branch were no faster than one).
 *
 * Advisory only: correctness never depends on it. The push's compare-and-swap on the
 * branch still decides every write, so a turn that is broken, lost or taken twice only
 * costs a retried round; writers on other machines do not see it at all. A turn whose
 * holder died (or that is older than `staleMs`) is broken, and a writer that waited
 * `maxWaitMs` goes ahead without one.
 *
 * Fairness: a writer waiting for a turn touches `<file>.waiting`; the writer that just
 * released the turn and wants it again lets a recent waiter go first, so one busy process
 * cannot keep the turn for itself while the others time out.
 */
export interface TurnOptions {
  maxWaitMs: number;
  staleMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Turn files this process released last (and has not waited on since). */
const releasedLast = new Set<string>();
/** Longer than a waiter's poll interval, so the waiter gets in first. */
const LET_WAITER_GO_MS = 30;

export interface Turn {
  release(): Promise<void>;
  /**
   * Nobody else finished a turn since `owner` last released one: the branch is most likely
   * where `owner` left it (a hint: a push's compare-and-swap still decides).
   */
  lastWasMine: boolean;
}

/**
 * Waits for the turn at `file`; its release is a no-op when gone ahead without one.
 * `owner` names the writer, so it can tell whether another took a turn since its last.
 */
export async function takeTurn(file: string, options: TurnOptions, owner: string): Promise<Turn> {
  const turn = await acquire(file, options);
  const lastFile = `${file}.last`;
  const last = turn.held ? await readFile(lastFile, 'utf8').catch(() => undefined) : undefined;
  return {
    lastWasMine: last === owner,
    async release() {
      if (turn.held) await writeFile(lastFile, owner).catch(() => undefined);
      await turn.release();
    },
  };
}

/** Gone ahead without a turn: nothing to release. */
const NOT_HELD = { held: false, release: async () => undefined };

async function acquire(
  file: string,
  options: TurnOptions,
): Promise<{ held: boolean; release: () => Promise<void> }> {
  const token = `${HOST}+${process.pid}+${randomBytes(6).toString('hex')}`;
  const deadline = Date.now() + options.maxWaitMs;
  const waitingFile = `${file}.waiting`;
  if (releasedLast.has(file)) {
    const touched = (await stat(waitingFile).catch(() => undefined))?.mtimeMs;
    if (touched !== undefined && Date.now() - touched < 200) await sleep(LET_WAITER_GO_MS);
  }
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(token);
      await handle.close();
      return {
        held: true,
        release: async () => {
          // Only our own turn: if ours was broken, someone else's file is there now.
          if ((await readFile(file, 'utf8').catch(() => '')) === token) {
            await unlink(file).catch(() => undefined);
          }
          releasedLast.add(file);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return NOT_HELD;
    }
    const holder = await readFile(file, 'utf8').catch(() => undefined);
    const since = (await stat(file).catch(() => undefined))?.mtimeMs;
    if (holder !== undefined) {
      const [host, pid] = holder.split('+');
      const dead = host === HOST && /^\d+$/.test(pid ?? '') && !alive(Number(pid));
      const stale = since !== undefined && Date.now() - since > options.staleMs;
      if (dead || stale) {
        if ((await readFile(file, 'utf8').catch(() => undefined)) === holder) {
          await unlink(file).catch(() => undefined);
        }
        continue;
      }
    }
    if (Date.now() > deadline) return NOT_HELD;
    releasedLast.delete(file);
    await writeFile(waitingFile, '').catch(() => undefined);
    await sleep(5 + Math.random() * 15);
  }
}

/** Forgets that `owner` had the last turn (a writer closing leaves no file behind). */
export async function releaseTurnRecord(file: string, owner: string): Promise<void> {
  const lastFile = `${file}.last`;
  if ((await readFile(lastFile, 'utf8').catch(() => undefined)) === owner) {
    await unlink(lastFile).catch(() => undefined);
  }
}
