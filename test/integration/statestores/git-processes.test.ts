import { listedMessages } from '../../../src/statestores/commit-message';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config';
import type { GitStateStore } from '../../../src/model/types';
import { GitStateStoreWriter } from '../../../src/statestores/git';
import { createBareRepo, git } from '../../support/git-bare';

const gitStore = (url: string): GitStateStore => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'GitStateStore',
  metadata: { name: 'shared' },
  spec: { url, branch: 'main' },
});

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'git-processes-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs the compiled writer (`npm run build`) in one OS process per cache dir, at once. */
function runWriterProcesses(cacheDirs: string[], url: string, count: number) {
  const moduleFile = path.join(PROJECT_ROOT, 'dist', 'src', 'statestores', 'git.js');
  const script = path.join(PROJECT_ROOT, 'test', 'support', 'git-writer-process.js');
  return Promise.all(
    cacheDirs.map(
      (cacheDir, id) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [script, moduleFile, cacheDir, url, String(id), String(count)],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          );
          let stderr = '';
          child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
          child.on('error', reject);
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`writer ${id} exited ${code}: ${stderr}`)),
          );
        }),
    ),
  );
}

/** A pid that is certainly not running: a child that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('Git writers in several processes on one cache directory', () => {
  /**
   * Every update listed by exactly one commit (a push groups what was written together),
   * each commit touching only its listed updates' files, each with its own content.
   */
  async function expectEachWriteOnce(bare: string, processes: number, count: number) {
    const log = await git(['log', '--format=%x00%H%n%B', 'refs/heads/main'], bare);
    const commits = log
      .split('\0')
      .filter((c) => c.trim() !== '')
      .map((c) => ({ sha: c.slice(0, 40), listed: listedMessages(c.slice(41).trim()) }));
    const expected = Array.from({ length: processes }, (_, p) =>
      Array.from({ length: count }, (_, i) => `p${p}-${i}`),
    ).flat();
    expect(commits.flatMap((c) => c.listed).sort()).toEqual(
      expected.map((e) => `Update from: ${e}`).sort(),
    );
    for (const { sha, listed } of commits) {
      const ids = listed.map((m) => m.replace('Update from: ', ''));
      const touched = await git(
        ['diff-tree', '--root', '--no-commit-id', '--name-only', '-r', sha],
        bare,
      );
      expect(touched.trim().split('\n').sort(), sha).toEqual(
        ids.map((id) => `${id.replace('-', '/')}/f.yaml`).sort(),
      );
      for (const id of ids) {
        const [p, i] = id.split('-') as [string, string];
        expect(await git(['show', `${sha}:${p}/${i}/f.yaml`], bare)).toBe(`writer: ${id}\n`);
      }
    }
  }

  it('lose, duplicate and mix up nothing: each commit holds exactly its own files', async () => {
    const bare = path.join(work, 'shared.git');
    const url = await createBareRepo(bare);
    const cacheDir = path.join(work, 'cache');
    await runWriterProcesses([cacheDir, cacheDir, cacheDir], url, 16);
    await expectEachWriteOnce(bare, 3, 16);
    // Every process removed its clone when it closed (turn files may stay: they are tiny).
    const left = await readdir(path.join(cacheDir, 'git'));
    expect(left.filter((e) => !/\.turn(\.waiting)?$/.test(e))).toEqual([]);
  });

  it('lose nothing either with nothing shared but the remote, as on separate machines', async () => {
    const bare = path.join(work, 'machines.git');
    const url = await createBareRepo(bare);
    // Separate cache directories: no turn-taking, the push's compare-and-swap alone decides.
    await runWriterProcesses(
      [0, 1, 2].map((m) => path.join(work, `machine-${m}`)),
      url,
      16,
    );
    await expectEachWriteOnce(bare, 3, 16);
  });

  it('adopts the clone of a dead process and removes other stale clones, never a live one', async () => {
    const bare = path.join(work, 'adopt.git');
    const url = await createBareRepo(bare);
    const cacheDir = path.join(work, 'adopt-cache');
    const first = new GitStateStoreWriter({ store: gitStore(url), cacheDir });
    await first.update({ message: 'one', writeFiles: [{ path: 'a.yaml', content: 'a' }] });
    const [prefix, host] = path.basename(first.repoDir!).split('+') as [string, string];
    expect(host).toBe(hostname().replace(/[^A-Za-z0-9.-]/g, '_'));

    // As if its process had been killed: the clone stays behind under a dead pid, with the
    // locks a killed git leaves and a stray file in the work tree (which writers never
    // read: commits are built from objects, so it must not reach one).
    const parent = path.join(cacheDir, 'git');
    const dead = await deadPid();
    const stale = path.join(parent, [prefix, host, dead, 'aaaaaa'].join('+'));
    await rename(first.repoDir!, stale);
    await writeFile(path.join(stale, '.git', 'index.lock'), '');
    await writeFile(path.join(stale, 'half-written.yaml'), 'x');
    const otherStale = path.join(parent, ['other-store', host, dead, 'bbbbbb'].join('+'));
    const live = path.join(parent, [prefix, host, process.pid, 'cccccc'].join('+'));
    await mkdir(otherStale, { recursive: true });
    await mkdir(live, { recursive: true });

    const claimed: { adopted: boolean }[] = [];
    const second = new GitStateStoreWriter({
      store: gitStore(url),
      cacheDir,
      logger: {
        debug: (o: unknown, msg?: string) => {
          if (msg === 'git working clone claimed') claimed.push(o as { adopted: boolean });
        },
        warn: () => undefined,
      },
    });
    await second.update({ message: 'two', writeFiles: [{ path: 'b.yaml', content: 'b' }] });
    expect(claimed).toMatchObject([{ adopted: true }]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(otherStale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(await git(['ls-tree', '-r', '--name-only', 'refs/heads/main'], bare)).toBe(
      'a.yaml\nb.yaml\n',
    );
    await second.close();
    expect(await readdir(parent)).toEqual([path.basename(live)]);
  });
});
