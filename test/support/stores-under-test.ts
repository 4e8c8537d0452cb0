import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { listedMessages } from '../../src/statestores/commit-message';
import { rename } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createBareRepo } from './git-bare';
import { startMinio, type MinioServer } from './minio';

const exec = promisify(execFile);

/**
 * A state store for fault and multi-worker tests: a real bare repository (file://) or a
 * real MinIO, that can be taken away and brought back, and that keeps every write it ever
 * received (Git history; S3 object versions) so tests can check that each was written once.
 */
export interface StoreUnderTest {
  kind: 'git' | 's3';
  /** The store `default` (and its Secret) as YAML a user would apply. */
  storeYaml: string;
  storeKind: 'GitStateStore' | 'BucketStateStore';
  /** Every file path under `prefix`, sorted. */
  files(prefix: string): Promise<string[]>;
  readBytes(file: string): Promise<Buffer | undefined>;
  /** Every content each file under `prefix` was ever written with, oldest first. */
  writes(prefix: string): Promise<Map<string, string[]>>;
  /** Git only: commits after `since` (a sha; all when absent), oldest first. */
  /** Oldest first; `placements`: the batch messages a (grouped) commit lists. */
  commits(
    since?: string,
  ): Promise<{ sha: string; message: string; placements: string[]; files: string[] }[]>;
  /** Git only: the branch's head commit. */
  head(): Promise<string | undefined>;
  /** Makes the store unavailable: the repository moved away; MinIO stopped. */
  takeDown(): Promise<void>;
  /** The repository moved back; MinIO restarted on the same data and port. */
  bringBack(): Promise<void>;
  stop(): Promise<void>;
}

async function gitOut(bare: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', ['--git-dir', bare, ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

export async function gitStoreUnderTest(dir: string): Promise<StoreUnderTest> {
  const bare = path.join(dir, 'state.git');
  const url = await createBareRepo(bare);
  const hasBranch = async () =>
    (await gitOut(bare, ['rev-parse', '--verify', '--quiet', 'refs/heads/main']).catch(() => ''))
      .length > 0;
  const commits = async (since?: string) => {
    if (!(await hasBranch())) return [];
    const range = since ? `${since}..refs/heads/main` : 'refs/heads/main';
    // %x00 separates commits, %x01 ends a message; --name-only lists the files each touched.
    const out = await gitOut(bare, [
      'log',
      '--reverse',
      '--no-renames',
      '--format=%x00%H%n%B%x01',
      '--name-only',
      range,
    ]);
    return out
      .split('\0')
      .filter((c) => c.trim() !== '')
      .map((c) => {
        const [message = '', names = ''] = c.slice(41).split('\x01');
        return {
          sha: c.slice(0, 40),
          message: message.split('\n')[0] ?? '',
          placements: listedMessages(message),
          files: names.split('\n').filter((l) => l !== ''),
        };
      });
  };
  return {
    kind: 'git',
    storeKind: 'GitStateStore',
    storeYaml: `apiVersion: platform.kratix.io/v1alpha1
kind: GitStateStore
metadata:
  name: default
spec:
  url: ${url}
  branch: main
`,
    async files(prefix) {
      if (!(await hasBranch())) return [];
      const out = await gitOut(bare, ['ls-tree', '-r', '--name-only', 'refs/heads/main']);
      return out
        .split('\n')
        .filter((f) => f !== '' && f.startsWith(prefix))
        .sort();
    },
    async readBytes(file) {
      try {
        const { stdout } = await exec(
          'git',
          ['--git-dir', bare, 'show', `refs/heads/main:${file}`],
          {
            encoding: 'buffer',
            maxBuffer: 64 * 1024 * 1024,
          },
        );
        return stdout;
      } catch {
        return undefined;
      }
    },
    async writes(prefix) {
      const out = new Map<string, string[]>();
      for (const c of await commits()) {
        for (const f of c.files.filter((f) => f.startsWith(prefix))) {
          const content = await gitOut(bare, ['show', `${c.sha}:${f}`]).catch(() => undefined);
          if (content === undefined) continue; // deleted by this commit
          out.set(f, [...(out.get(f) ?? []), content]);
        }
      }
      return out;
    },
    commits,
    async head() {
      if (!(await hasBranch())) return undefined;
      return (await gitOut(bare, ['rev-parse', 'refs/heads/main'])).trim();
    },
    takeDown: () => rename(bare, `${bare}.away`),
    bringBack: () => rename(`${bare}.away`, bare),
    stop: async () => undefined,
  };
}

export async function s3StoreUnderTest(dir: string): Promise<StoreUnderTest> {
  const dataDir = path.join(dir, 'minio');
  mkdirSync(dataDir, { recursive: true });
  let minio: MinioServer = await startMinio({ dataDir });
  const port = Number(minio.hostPort.split(':')[1]);
  await minio.createBucket('kratix');
  const client = new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
  // Every PUT keeps a version: how many times a key was written is how many versions it has.
  await client.send(
    new PutBucketVersioningCommand({
      Bucket: 'kratix',
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const text = async (key: string, versionId?: string) => {
    const out = await client.send(
      new GetObjectCommand({ Bucket: 'kratix', Key: key, VersionId: versionId }),
    );
    return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  };
  return {
    kind: 's3',
    storeKind: 'BucketStateStore',
    storeYaml: `apiVersion: v1
kind: Secret
metadata:
  name: minio-credentials
  namespace: default
stringData:
  accessKeyID: ${minio.accessKey}
  secretAccessKey: ${minio.secretKey}
---
apiVersion: platform.kratix.io/v1alpha1
kind: BucketStateStore
metadata:
  name: default
spec:
  endpoint: ${minio.hostPort}
  insecure: true
  bucketName: kratix
  authMethod: accessKey
  secretRef:
    name: minio-credentials
    namespace: default
`,
    async files(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: 'kratix', Prefix: prefix, ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async readBytes(file) {
      return text(file).catch(() => undefined);
    },
    async writes(prefix) {
      // S3 lists each key's versions newest first.
      const versions: { key: string; id: string }[] = [];
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      do {
        const page = await client.send(
          new ListObjectVersionsCommand({
            Bucket: 'kratix',
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        );
        for (const v of page.Versions ?? []) {
          versions.push({ key: v.Key!, id: v.VersionId! });
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
      } while (keyMarker);
      const out = new Map<string, string[]>();
      for (const v of versions.reverse()) {
        out.set(v.key, [...(out.get(v.key) ?? []), (await text(v.key, v.id)).toString('utf8')]);
      }
      return out;
    },
    commits: async () => [],
    head: async () => undefined,
    takeDown: () => minio.stop(),
    async bringBack() {
      minio = await startMinio({ dataDir, port });
    },
    async stop() {
      client.destroy();
      await minio.stop();
    },
  };
}

export function storeUnderTest(kind: 'git' | 's3', dir: string): Promise<StoreUnderTest> {
  return kind === 'git' ? gitStoreUnderTest(dir) : s3StoreUnderTest(dir);
}

/** A Destination on the store `default` of `store`. */
export function destinationYaml(store: StoreUnderTest, name: string): string {
  return `apiVersion: platform.kratix.io/v1alpha1
kind: Destination
metadata:
  name: ${name}
  labels:
    environment: dev
spec:
  path: ${name}
  stateStoreRef:
    kind: ${store.storeKind}
    name: default
`;
}
