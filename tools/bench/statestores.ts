import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BucketStateStore, GitStateStore, Secret } from '../../src/model/types';
import { GitStateStoreWriter } from '../../src/statestores/git';
import { defaultMinioBinary, startMinio } from '../servers/minio';
import { BucketStateStoreWriter } from '../../src/statestores/s3';
import type { FileToWrite } from '../../src/statestores/writer';
import { resolveContent } from '../../src/statestores/writer';

const exec = promisify(execFile);

const DIRS = 20;
const FILES_PER_DIR = 10;
/** Round 0 writes everything; rounds 1..3 change every file. */
const ROUNDS = 4;

interface Row {
  name: string;
  files: number;
  ms: number;
}

function dirName(d: number): string {
  return `worker-1/resources/default/bench/res-${d}/instance-configure/5058f`;
}

function dirFiles(d: number, round: number): FileToWrite[] {
  return Array.from({ length: FILES_PER_DIR }, (_, i) => ({
    path: `file-${i}.yaml`,
    content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: res-${d}-${i}\ndata:\n  round: "${round}"\n${'  pad: x\n'.repeat(20)}`,
  }));
}

async function timed(name: string, files: number, fn: () => Promise<void>): Promise<Row> {
  const start = process.hrtime.bigint();
  await fn();
  return { name, files, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

async function git(args: string[], cwd: string): Promise<void> {
  await exec('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'bench',
      GIT_AUTHOR_EMAIL: 'bench@example.com',
      GIT_COMMITTER_NAME: 'bench',
      GIT_COMMITTER_EMAIL: 'bench@example.com',
    },
  });
}

async function bareRepo(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await git(['init', '-q', '--bare', '-b', 'main', dir], dir);
  return pathToFileURL(dir).toString();
}

const total = DIRS * FILES_PER_DIR * ROUNDS;

/** One commit per directory per round, the way the engine writes one work placement at a time. */
async function benchGit(work: string): Promise<Row[]> {
  const writerUrl = await bareRepo(path.join(work, 'writer.git'));
  const store: GitStateStore = {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'GitStateStore',
    metadata: { name: 'bench' },
    spec: { url: writerUrl, branch: 'main' },
  };
  const writer = new GitStateStoreWriter({ store, cacheDir: path.join(work, 'cache') });
  const writerRow = await timed('git: GitStateStoreWriter (1 commit/dir)', total, async () => {
    for (let r = 0; r < ROUNDS; r++) {
      for (let d = 0; d < DIRS; d++) {
        await writer.update({
          message: `Update from: bench-${d}`,
          replaceDirs: [{ dir: dirName(d), files: dirFiles(d, r) }],
        });
      }
    }
  });
  await writer.close();

  const rawUrl = await bareRepo(path.join(work, 'raw.git'));
  const clone = path.join(work, 'raw-clone');
  await exec('git', ['clone', '-q', rawUrl, clone]);
  await git(['checkout', '-q', '-b', 'main'], clone);
  const rawRow = await timed('git: CLI write/add/commit/push', total, async () => {
    for (let r = 0; r < ROUNDS; r++) {
      for (let d = 0; d < DIRS; d++) {
        const dir = path.join(clone, dirName(d));
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        for (const f of dirFiles(d, r))
          await writeFile(path.join(dir, f.path), await resolveContent(f.content));
        await git(['add', '-A'], clone);
        await git(['commit', '-q', '-m', `Update from: bench-${d}`], clone);
        await git(['push', '-q', 'origin', 'HEAD:main'], clone);
      }
    }
  });
  return [writerRow, rawRow];
}

async function benchS3(work: string): Promise<Row[]> {
  const minio = await startMinio({ dataDir: path.join(work, 'minio') });
  try {
    await minio.createBucket('bench-writer');
    await minio.createBucket('bench-raw');
    const secret: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench' },
      stringData: { accessKeyID: minio.accessKey, secretAccessKey: minio.secretKey },
    };
    const store: BucketStateStore = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'BucketStateStore',
      metadata: { name: 'bench' },
      spec: { bucketName: 'bench-writer', endpoint: minio.hostPort, insecure: true },
    };
    const writer = new BucketStateStoreWriter({ store, secret });
    const writerRow = await timed('s3: BucketStateStoreWriter (1 update/dir)', total, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        for (let d = 0; d < DIRS; d++) {
          await writer.update({
            message: `Update from: bench-${d}`,
            replaceDirs: [{ dir: dirName(d), files: dirFiles(d, r) }],
          });
        }
      }
    });
    // The writer's edge over raw puts: an unchanged round costs one LIST per directory.
    const noopRow = await timed(
      's3: BucketStateStoreWriter, unchanged round',
      DIRS * FILES_PER_DIR,
      async () => {
        for (let d = 0; d < DIRS; d++) {
          await writer.update({
            message: `Update from: bench-${d}`,
            replaceDirs: [{ dir: dirName(d), files: dirFiles(d, ROUNDS - 1) }],
          });
        }
      },
    );
    await writer.close();

    const raw = new S3Client({
      endpoint: minio.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    });
    const rawRow = await timed('s3: raw PutObject loop', total, async () => {
      for (let r = 0; r < ROUNDS; r++) {
        for (let d = 0; d < DIRS; d++) {
          for (const f of dirFiles(d, r)) {
            await raw.send(
              new PutObjectCommand({
                Bucket: 'bench-raw',
                Key: `${dirName(d)}/${f.path}`,
                Body: await resolveContent(f.content),
              }),
            );
          }
        }
      }
    });
    raw.destroy();
    return [writerRow, rawRow, noopRow];
  } finally {
    await minio.stop();
  }
}

function print(rows: Row[], pairs: [number, number][]): void {
  const rate = (r: Row) => (r.files / (r.ms / 1000)).toFixed(1);
  console.log(`\nState store writes: ${DIRS} dirs x ${FILES_PER_DIR} files, ${ROUNDS} rounds`);
  for (const r of rows) {
    console.log(
      `  ${r.name.padEnd(48)} ${String(r.files).padStart(5)} files ${(r.ms / 1000).toFixed(2).padStart(7)} s ${rate(r).padStart(8)} files/s`,
    );
  }
  for (const [w, raw] of pairs) {
    const a = rows[w];
    const b = rows[raw];
    if (!a || !b) continue;
    const ratio = a.files / a.ms / (b.files / b.ms);
    console.log(`  ratio writer/raw (${a.name.split(':')[0]}): ${ratio.toFixed(2)}`);
  }
}

/** Writes the same files through the writers and through the raw tools; prints files/s. */
export async function benchStateStores(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'promiseflow-bench-ss-'));
  try {
    const rows: Row[] = await benchGit(work);
    const pairs: [number, number][] = [[0, 1]];
    if (existsSync(defaultMinioBinary())) {
      rows.push(...(await benchS3(work)));
      pairs.push([2, 3]);
    } else {
      console.log(`(S3 skipped: no MinIO at ${defaultMinioBinary()}; run scripts/setup.sh)`);
    }
    print(rows, pairs);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
