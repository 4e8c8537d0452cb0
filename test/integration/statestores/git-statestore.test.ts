import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitStateStore, Secret } from '../../../src/model/types';
import { createStateStoreWriter } from '../../../src/statestores/factory';
import { GitStateStoreWriter } from '../../../src/statestores/git';
import { StateStoreError, type UpdateBatch } from '../../../src/statestores/writer';
import {
  commitMessages,
  createBareRepo,
  fileAt,
  filesAt,
  git,
  lastAuthor,
} from '../../support/git-bare';
import { startGitHttpsServer, type GitHttpsServer } from '../../support/git-https-server';

function gitStore(url: string, extra: Partial<GitStateStore['spec']> = {}): GitStateStore {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'GitStateStore',
    metadata: { name: 'default' },
    spec: { url, branch: 'main', ...extra },
  };
}

const files = (dir: string, n: number, tag = 'v1') => ({
  dir,
  files: Array.from({ length: n }, (_, i) => ({
    path: `file-${i}.yaml`,
    content: `kind: ConfigMap\nname: ${dir}-${i}\ntag: ${tag}\n`,
  })),
});

let work: string;
let counter = 0;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'git-statestore-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh bare repo plus a fresh cache dir per test: tests never share clones. */
async function freshRepo() {
  const n = ++counter;
  const bare = path.join(work, `repo-${n}.git`);
  const url = await createBareRepo(bare);
  const cacheDir = path.join(work, `cache-${n}`);
  return { bare, url, cacheDir };
}

describe('GitStateStoreWriter over file://', () => {
  it('commits with the batch message and kratix author, and creates the branch on an empty repo', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    const res = await writer.update({
      message: 'Update from: mongodb-mongo-v4.worker-1',
      replaceDirs: [
        files('worker-1/resources/default/mongodb/mongo-v4/instance-configure/5058f', 2),
      ],
    });
    expect(res).toMatchObject({ changed: true, filesWritten: 2, filesDeleted: 0 });
    expect(res.revision).toMatch(/^[0-9a-f]{40}$/);
    expect(await commitMessages(bare)).toEqual(['Update from: mongodb-mongo-v4.worker-1']);
    expect(await lastAuthor(bare)).toBe('kratix <kratix@kratix.io>');
    expect((await git(['rev-parse', 'refs/heads/main'], bare)).trim()).toBe(res.revision);
    await writer.close();
  });

  it('uses spec.gitAuthor and a non-default branch that does not exist yet', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const store = gitStore(url, {
      branch: 'state',
      gitAuthor: { name: 'Platform', email: 'p@x.io' },
    });
    const writer = new GitStateStoreWriter({ store, cacheDir });
    await writer.update({ message: 'first', writeFiles: [{ path: 'a.yaml', content: 'a: 1\n' }] });
    expect(await commitMessages(bare, 'state')).toEqual(['first']);
    expect(await commitMessages(bare, 'main')).toEqual([]);
    expect(await lastAuthor(bare, 'state')).toBe('Platform <p@x.io>');
    expect(await writer.readFile('a.yaml')).toBe('a: 1\n');
    expect(await writer.readFile('missing.yaml')).toBeUndefined();
    await writer.close();
  });

  it('makes no commit when the content is unchanged', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    const batch: UpdateBatch = { message: 'Update from: w1', replaceDirs: [files('d1', 3)] };
    expect((await writer.update(batch)).changed).toBe(true);
    const again = await writer.update({ ...batch, message: 'Update from: w1 (again)' });
    expect(again).toEqual({ changed: false, filesWritten: 0, filesDeleted: 0 });
    expect(await commitMessages(bare)).toEqual(['Update from: w1']);
    // An empty batch on an empty repository creates nothing either.
    const empty = await freshRepo();
    const w2 = createStateStoreWriter(gitStore(empty.url), undefined, { cacheDir: empty.cacheDir });
    expect((await w2.update({ message: 'noop' })).changed).toBe(false);
    expect(await commitMessages(empty.bare)).toEqual([]);
    await writer.close();
    await w2.close();
  });

  it('replaceDirs deletes stale files; deletePaths removes files and directories', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    await writer.update({
      message: 'Update from: w1',
      replaceDirs: [files('res/a', 3), files('res/b', 1)],
      writeFiles: [{ path: 'top.yaml', content: 'top\n' }],
    });
    const res = await writer.update({
      message: 'Update from: w1',
      replaceDirs: [files('res/a', 1, 'v2')],
    });
    expect(res).toMatchObject({ changed: true, filesWritten: 1, filesDeleted: 2 });
    expect(await filesAt(bare)).toEqual(['res/a/file-0.yaml', 'res/b/file-0.yaml', 'top.yaml']);
    expect(await fileAt(bare, 'res/a/file-0.yaml')).toContain('tag: v2');
    expect(await writer.listFiles('res')).toEqual(['res/a/file-0.yaml', 'res/b/file-0.yaml']);

    const del = await writer.update({
      message: 'Delete from: w1',
      deletePaths: ['res/b', 'top.yaml', 'not/there.yaml'],
    });
    expect(del).toMatchObject({ changed: true, filesWritten: 0, filesDeleted: 2 });
    expect(await filesAt(bare)).toEqual(['res/a/file-0.yaml']);
    expect((await commitMessages(bare))[0]).toBe('Delete from: w1');
    await writer.close();
  });

  it('writes updates queued at once with one push, one commit each, and fails only a bad batch', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    // Count pushes on the server side.
    const pushes = path.join(work, `pushes-${counter}`);
    await writeFile(
      path.join(bare, 'hooks', 'post-receive'),
      `#!/bin/sh\necho push >> ${pushes}\n`,
      { mode: 0o755 },
    );
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    const results = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, i) =>
        writer.update({
          message: `Update from: w${i}`,
          writeFiles: [{ path: `d${i}/f.yaml`, content: `${i}` }],
        }),
      ),
      writer.update({ message: 'bad', writeFiles: [{ path: 'd0/f.yaml/sub', content: 'x' }] }),
      writer.update({
        message: 'Update from: w8',
        writeFiles: [{ path: 'd8/f.yaml', content: '8' }],
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      ...Array(8).fill('fulfilled'),
      'rejected',
      'fulfilled',
    ]);
    expect((await commitMessages(bare)).sort()).toEqual(
      Array.from({ length: 9 }, (_, i) => `Update from: w${i}`),
    );
    expect(await filesAt(bare)).toHaveLength(9);
    // The first update goes alone; everything queued behind it shares the next push.
    const pushCount = (await readFile(pushes, 'utf8')).trim().split('\n').length;
    expect(pushCount).toBeLessThanOrEqual(2);
    // One commit per push, listing its placements: far fewer commits than updates.
    const commits = Number((await git(['rev-list', '--count', 'main'], bare)).trim());
    expect(commits).toBe(pushCount);
    const subjects = (await git(['log', '--format=%s', 'main'], bare)).trim().split('\n');
    expect(subjects.filter((s) => /^Update from: \d+ placements$/.test(s))).toHaveLength(1);
    await writer.close();
  });

  it('a batch that fails half-way leaves nothing behind for the next update', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    await writer.update({ message: 'one', writeFiles: [{ path: 'keep.yaml', content: 'k' }] });
    // `keep.yaml/sub` needs a directory where a file is: fails after `half/a` was written.
    const err = await writer
      .update({
        message: 'bad',
        replaceDirs: [{ dir: 'half', files: [{ path: 'a', content: 'a' }] }],
        writeFiles: [{ path: 'keep.yaml/sub', content: 's' }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect((err as StateStoreError).message).toMatch(/cannot apply the batch/);
    await writer.update({ message: 'two', writeFiles: [{ path: 'other.yaml', content: 'o' }] });
    expect(await filesAt(bare)).toEqual(['keep.yaml', 'other.yaml']);
    expect(await commitMessages(bare)).toEqual(['two', 'one']);
    await writer.close();
  });

  it('never follows symlinks committed to the repository', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const outside = path.join(work, `outside-${counter}`);
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'victim.txt'), 'untouched\n');
    const clone = path.join(work, `links-${counter}`);
    await git(['clone', '-q', url, clone]);
    await git(['checkout', '-q', '-b', 'main'], clone);
    await symlink(outside, path.join(clone, 'linkdir'));
    await symlink(outside, path.join(clone, 'linkdir2'));
    await symlink(path.join(outside, 'victim.txt'), path.join(clone, 'link.txt'));
    await git(['add', '-A'], clone);
    await git(['commit', '-q', '-m', 'links'], clone);
    await git(['push', '-q', 'origin', 'main'], clone);

    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    await writer.update({
      message: 'Update from: links',
      replaceDirs: [{ dir: 'linkdir', files: [{ path: 'victim.txt', content: 'replaced' }] }],
      writeFiles: [
        { path: 'link.txt', content: 'plain file now' },
        { path: 'linkdir2/new.txt', content: 'inside' },
      ],
      deletePaths: ['linkdir/other'],
    });
    expect(await readFile(path.join(outside, 'victim.txt'), 'utf8')).toBe('untouched\n');
    expect(await fileAt(bare, 'linkdir/victim.txt')).toBe('replaced');
    expect(await fileAt(bare, 'link.txt')).toBe('plain file now');
    expect(await fileAt(bare, 'linkdir2/new.txt')).toBe('inside');
    expect(existsSync(path.join(outside, 'new.txt'))).toBe(false);
    await writer.close();
  });

  it('keeps an executable file executable and writes names with quotes, spaces and non-ASCII', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const clone = path.join(work, `modes-${counter}`);
    await git(['clone', '-q', url, clone]);
    await git(['checkout', '-q', '-b', 'main'], clone);
    await writeFile(path.join(clone, 'run.sh'), 'echo 1\n');
    await chmod(path.join(clone, 'run.sh'), 0o755);
    await git(['add', '-A'], clone);
    await git(['commit', '-q', '-m', 'exec'], clone);
    await git(['push', '-q', 'origin', 'main'], clone);

    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    // (A backslash is a path separator to the store, as on Windows.)
    const odd = 'dir with space/"quoted" tab\there-ü.yaml';
    const res = await writer.update({
      message: 'Update from: modes',
      writeFiles: [
        { path: 'run.sh', content: 'echo 2\n' },
        { path: odd, content: 'odd' },
      ],
    });
    expect(res).toMatchObject({ changed: true, filesWritten: 2, filesDeleted: 0 });
    expect(await git(['ls-tree', 'main', 'run.sh'], bare)).toMatch(/^100755 blob /);
    expect(await fileAt(bare, 'run.sh')).toBe('echo 2\n');
    expect(await fileAt(bare, odd)).toBe('odd');
    expect(await writer.readFile(odd)).toBe('odd');
    await writer.close();
  });

  it('writes many directories in one commit', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    const dirs = Array.from({ length: 12 }, (_, i) => files(`dest/dir-${i}`, 2));
    const res = await writer.update({ message: 'Update from: many', replaceDirs: dirs });
    expect(res.filesWritten).toBe(24);
    expect(await commitMessages(bare)).toEqual(['Update from: many']);
    expect(await filesAt(bare)).toHaveLength(24);
    await writer.close();
  });

  it('refuses paths that escape the store or touch .git', async () => {
    const { url, cacheDir } = await freshRepo();
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    await expect(
      writer.update({ message: 'x', writeFiles: [{ path: '../evil', content: '' }] }),
    ).rejects.toBeInstanceOf(StateStoreError);
    await expect(
      writer.update({ message: 'x', writeFiles: [{ path: 'a/.git/config', content: '' }] }),
    ).rejects.toThrow(/\.git/);
    await writer.close();
  });

  it('two writers with separate clones writing concurrently lose nothing', async () => {
    const { bare, url } = await freshRepo();
    let retries = 0;
    const logger = { debug: () => retries++, warn: () => undefined };
    const a = new GitStateStoreWriter({
      store: gitStore(url),
      cacheDir: path.join(work, 'cc-a'),
      logger,
    });
    const b = new GitStateStoreWriter({
      store: gitStore(url),
      cacheDir: path.join(work, 'cc-b'),
      logger,
    });
    const rounds = 6;
    await Promise.all([
      (async () => {
        for (let i = 0; i < rounds; i++) {
          await a.update({ message: `Update from: a-${i}`, replaceDirs: [files(`a/${i}`, 2)] });
        }
      })(),
      (async () => {
        for (let i = 0; i < rounds; i++) {
          await b.update({ message: `Update from: b-${i}`, replaceDirs: [files(`b/${i}`, 2)] });
        }
      })(),
    ]);
    const messages = await commitMessages(bare);
    expect(messages).toHaveLength(2 * rounds);
    expect(new Set(messages).size).toBe(2 * rounds);
    expect(await filesAt(bare)).toHaveLength(2 * rounds * 2);
    console.log(`concurrent writers: ${retries} rejected pushes retried`);
    await a.close();
    await b.close();
  });

  it('retries a rejected push from a fresh fetch', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    // The remote refuses the first two pushes (as if another writer had won the race).
    const countFile = path.join(work, `hook-count-${counter}`);
    await writeFile(
      path.join(bare, 'hooks', 'pre-receive'),
      `#!/bin/sh\nn=$(cat ${countFile} 2>/dev/null || echo 0)\necho $((n+1)) > ${countFile}\n[ "$n" -ge 2 ]\n`,
    );
    await chmod(path.join(bare, 'hooks', 'pre-receive'), 0o755);
    const rejected: unknown[] = [];
    const logger = {
      debug: (o: unknown, msg?: string) => {
        if (msg?.includes('push rejected')) rejected.push(o);
      },
      warn: () => undefined,
    };
    const writer = new GitStateStoreWriter({ store: gitStore(url), cacheDir, logger });
    const res = await writer.update({
      message: 'Update from: retry',
      replaceDirs: [files('r', 2)],
    });
    expect(res.changed).toBe(true);
    expect(rejected).toHaveLength(2);
    expect(await commitMessages(bare)).toEqual(['Update from: retry']);

    // A remote that never accepts gives up after maxPushAttempts with a clear message.
    await writeFile(path.join(bare, 'hooks', 'pre-receive'), '#!/bin/sh\nexit 1\n');
    const stubborn = new GitStateStoreWriter({
      store: gitStore(url),
      cacheDir,
      maxPushAttempts: 3,
    });
    await expect(
      stubborn.update({ message: 'never', writeFiles: [{ path: 'n', content: 'n' }] }),
    ).rejects.toThrow(
      /still rejected after 3 attempts: git push failed: .*pre-receive hook declined/,
    );
    expect(await commitMessages(bare)).toEqual(['Update from: retry']);
  });

  it('two writers sharing one cacheDir each work in a private clone, removed on close', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const a = new GitStateStoreWriter({ store: gitStore(url), cacheDir });
    const b = new GitStateStoreWriter({ store: gitStore(url), cacheDir });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).update({ message: `u${i}`, replaceDirs: [files(`s/${i}`, 1)] }),
      ),
    );
    expect(await commitMessages(bare)).toHaveLength(8);
    expect(await filesAt(bare)).toHaveLength(8);
    expect(a.repoDir).not.toBe(b.repoDir);
    expect(path.dirname(a.repoDir!)).toBe(path.join(cacheDir, 'git'));
    const dirs = [a.repoDir!, b.repoDir!];
    await a.close();
    await b.close();
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  });

  it('restores a file deleted on the remote by hand on the next write', async () => {
    const { bare, url, cacheDir } = await freshRepo();
    const writer = createStateStoreWriter(gitStore(url), undefined, { cacheDir });
    const batch: UpdateBatch = { message: 'Update from: w1', replaceDirs: [files('r', 2)] };
    await writer.update(batch);

    const clone = path.join(work, `hand-${counter}`);
    await git(['clone', '-q', url, clone]);
    await git(['rm', '-q', 'r/file-1.yaml'], clone);
    await writeFile(path.join(clone, 'unrelated.txt'), 'kept\n');
    await git(['add', '-A'], clone);
    await git(['commit', '-q', '-m', 'by hand'], clone);
    await git(['push', '-q', 'origin', 'main'], clone);
    expect(await filesAt(bare)).toEqual(['r/file-0.yaml', 'unrelated.txt']);

    const res = await writer.update(batch);
    expect(res).toMatchObject({ changed: true, filesWritten: 1, filesDeleted: 0 });
    expect(await filesAt(bare)).toEqual(['r/file-0.yaml', 'r/file-1.yaml', 'unrelated.txt']);
    expect(await commitMessages(bare)).toEqual(['Update from: w1', 'by hand', 'Update from: w1']);
    await writer.close();
  });

  it('a missing repository is a retryable error, and the write goes through once it exists', async () => {
    const bare = path.join(work, `not-yet-${++counter}.git`);
    const writer = createStateStoreWriter(gitStore(`file://${bare}`), undefined, {
      cacheDir: path.join(work, `cache-missing-${counter}`),
    });
    const batch: UpdateBatch = { message: 'Update from: late', replaceDirs: [files('late', 1)] };
    for (const op of [() => writer.validatePermissions(), () => writer.update(batch)]) {
      const err = (await op().catch((e: unknown) => e)) as StateStoreError;
      expect(err).toBeInstanceOf(StateStoreError);
      expect(err.message).toMatch(/does not exist or is not accessible/);
      expect(err.retryable).toBe(true);
      expect(err.fault).toBe('missing');
    }
    await createBareRepo(bare);
    expect((await writer.update(batch)).changed).toBe(true);
    expect(await commitMessages(bare)).toEqual(['Update from: late']);
    await writer.close();
  });
});

describe('GitStateStoreWriter over HTTPS with basic auth', () => {
  const username = 'platform';
  const password = 's3cr3t-Pa55word';
  let server: GitHttpsServer;
  let root: string;

  const secret = (pw = password): Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'git-creds' },
    data: {
      username: Buffer.from(username).toString('base64'),
      password: Buffer.from(pw).toString('base64'),
    },
  });

  beforeAll(async () => {
    root = path.join(work, 'https-root');
    server = await startGitHttpsServer({ root, username, password });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('writes, skips unchanged content and deletes stale files through http-backend', async () => {
    await createBareRepo(path.join(root, 'state.git'));
    const writer = new GitStateStoreWriter({
      store: gitStore(server.url('state.git')),
      secret: secret(),
      cacheDir: path.join(work, 'https-cache'),
      caFile: server.caFile,
    });
    await writer.validatePermissions();
    // Enough data that git gzips the push body.
    const big = { dir: 'big', files: [{ path: 'blob.txt', content: 'x'.repeat(300_000) }] };
    const first = await writer.update({
      message: 'Update from: https-1',
      replaceDirs: [files('d', 3), big],
    });
    expect(first.filesWritten).toBe(4);
    expect(
      (await writer.update({ message: 'again', replaceDirs: [files('d', 3), big] })).changed,
    ).toBe(false);
    const res = await writer.update({
      message: 'Update from: https-2',
      replaceDirs: [files('d', 1)],
    });
    expect(res).toMatchObject({ filesWritten: 0, filesDeleted: 2 });
    const bare = path.join(root, 'state.git');
    expect(await commitMessages(bare)).toEqual(['Update from: https-2', 'Update from: https-1']);
    expect(await filesAt(bare)).toEqual(['big/blob.txt', 'd/file-0.yaml']);
    // The password lives only in the environment of git processes, never in .git/config.
    const config = await git(
      ['config', '--list', '--local'],
      (writer as unknown as { repoDir: string }).repoDir,
    );
    expect(config).not.toContain(password);
    expect(config).toContain(server.url('state.git'));
    await writer.close();
  });

  it('accepts caBundle and insecureSkipTLSVerify from the secret', async () => {
    await createBareRepo(path.join(root, 'tls.git'));
    const withCa: Secret = {
      ...secret(),
      stringData: { caBundle: await readFile(server.caFile, 'utf8') },
    };
    const w1 = createStateStoreWriter(gitStore(server.url('tls.git')), withCa, {
      cacheDir: path.join(work, 'tls-1'),
    });
    await w1.update({ message: 'ca', writeFiles: [{ path: 'ca.txt', content: 'ca' }] });
    const insecure: Secret = { ...secret(), stringData: { insecureSkipTLSVerify: 'true' } };
    const w2 = createStateStoreWriter(gitStore(server.url('tls.git')), insecure, {
      cacheDir: path.join(work, 'tls-2'),
    });
    await w2.update({ message: 'insecure', writeFiles: [{ path: 'insecure.txt', content: 'i' }] });
    expect(await commitMessages(path.join(root, 'tls.git'))).toEqual(['insecure', 'ca']);
    // Without trust the self-signed certificate is refused with a clear reason.
    const w3 = createStateStoreWriter(gitStore(server.url('tls.git')), secret(), {
      cacheDir: path.join(work, 'tls-3'),
    });
    await expect(w3.validatePermissions()).rejects.toMatchObject({
      message: expect.stringMatching(/TLS certificate .* not trusted/),
      retryable: false,
    });
    await Promise.all([w1.close(), w2.close(), w3.close()]);
  });

  it('wrong password: clear StateStoreError without the password or URL userinfo', async () => {
    await createBareRepo(path.join(root, 'auth.git'));
    const wrong = 'WrongPassw0rd-xyz';
    for (const [store, sec] of [
      [gitStore(server.url('auth.git')), secret(wrong)],
      [
        gitStore(server.url('auth.git').replace('https://', `https://${username}:${wrong}@`)),
        undefined,
      ],
    ] as const) {
      const writer = new GitStateStoreWriter({
        store,
        secret: sec,
        cacheDir: path.join(work, `auth-cache-${++counter}`),
        caFile: server.caFile,
      });
      for (const op of [
        () => writer.validatePermissions(),
        () => writer.update({ message: 'x', writeFiles: [{ path: 'a', content: 'a' }] }),
      ]) {
        const err = await op().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StateStoreError);
        const e = err as StateStoreError;
        expect(e.message).toMatch(/GitStateStore "default": authentication failed/);
        expect(e.retryable).toBe(false);
        expect(e.message).not.toContain(wrong);
        expect(e.message).not.toContain(Buffer.from(`${username}:${wrong}`).toString('base64'));
        expect(e.message).not.toContain(`${username}:`);
      }
      await writer.close();
    }
  });

  it('unknown repository over HTTPS and an unreachable host are clear, retryable errors', async () => {
    const missing = new GitStateStoreWriter({
      store: gitStore(server.url('nope.git')),
      secret: secret(),
      cacheDir: path.join(work, 'https-missing'),
      caFile: server.caFile,
    });
    // Missing may mean "not created yet": retried, like any remote that is not there now.
    await expect(missing.validatePermissions()).rejects.toMatchObject({
      message: expect.stringMatching(/does not exist or is not accessible/),
      retryable: true,
      fault: 'missing',
    });
    const down = new GitStateStoreWriter({
      store: gitStore('https://127.0.0.1:9/nothing.git'),
      secret: secret(),
      cacheDir: path.join(work, 'https-down'),
      timeoutMs: 10_000,
    });
    const err = (await down.validatePermissions().catch((e: unknown) => e)) as StateStoreError;
    expect(err).toBeInstanceOf(StateStoreError);
    expect(err.message).toMatch(/cannot reach https:\/\/127\.0\.0\.1:9\/nothing\.git/);
    expect(err.retryable).toBe(true);
    expect(err.message).not.toContain(password);
  });
});

describe('GitStateStoreWriter over SSH', () => {
  // No sshd here: a fake `ssh` on PATH records how it was called and runs the remote git
  // command locally, which is exactly what sshd would do.
  it('uses the secret key and knownHosts with strict host key checking', async () => {
    const binDir = path.join(work, 'fake-ssh-bin');
    const log = path.join(work, 'fake-ssh.log');
    await rm(binDir, { recursive: true, force: true });
    await mkdir(binDir, { recursive: true });
    const script = [
      '#!/bin/sh',
      `log=${JSON.stringify(log)}`,
      'for last; do :; done',
      'echo "ARGS $*" >> "$log"',
      'while [ $# -gt 0 ]; do',
      '  case "$1" in',
      '    -i) echo "KEY $(cat "$2")" >> "$log"; shift 2 ;;',
      '    -o) case "$2" in UserKnownHostsFile=*) echo "KNOWN $(cat "${2#UserKnownHostsFile=}")" >> "$log" ;; esac; shift 2 ;;',
      '    *) shift ;;',
      '  esac',
      'done',
      'exec sh -c "$last"',
    ].join('\n');
    await writeFile(path.join(binDir, 'ssh'), `${script}\n`);
    await chmod(path.join(binDir, 'ssh'), 0o755);

    const bare = path.join(work, 'ssh-repo.git');
    await createBareRepo(bare);
    const secret: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'ssh' },
      stringData: {
        sshPrivateKey:
          '-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----',
        knownHosts: 'gitserver ssh-ed25519 AAAAfake',
      },
    };
    const oldPath = process.env.PATH;
    process.env.PATH = `${binDir}:${oldPath ?? ''}`;
    try {
      const writer = createStateStoreWriter(gitStore(`ssh://git@gitserver${bare}`), secret, {
        cacheDir: path.join(work, 'ssh-cache'),
      });
      await writer.validatePermissions();
      await writer.update({
        message: 'Update from: ssh',
        writeFiles: [{ path: 's.yaml', content: 's' }],
      });
      await writer.close();
    } finally {
      process.env.PATH = oldPath;
    }
    expect(await commitMessages(bare)).toEqual(['Update from: ssh']);
    const calls = await readFile(log, 'utf8');
    expect(calls).toContain('StrictHostKeyChecking=yes');
    expect(calls).toContain('IdentitiesOnly=yes');
    expect(calls).toContain('KEY -----BEGIN OPENSSH PRIVATE KEY-----');
    expect(calls).toContain('KNOWN gitserver ssh-ed25519 AAAAfake');
    expect(calls).toMatch(/git@gitserver git-receive-pack/);
  });
});
