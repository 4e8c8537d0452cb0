import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketStateStore, Secret } from '../../../src/model/types';
import { createStateStoreWriter } from '../../../src/statestores/factory';
import { BucketStateStoreWriter } from '../../../src/statestores/s3';
import { StateStoreError } from '../../../src/statestores/writer';
import { startMinio, type MinioServer } from '../../support/minio';

let minio: MinioServer;
let dataDir: string;
let raw: S3Client;
let bucketNo = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 's3-statestore-'));
  minio = await startMinio({ dataDir });
  raw = new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
});
afterAll(async () => {
  raw?.destroy();
  await minio?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function bucketStore(bucketName: string): BucketStateStore {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'BucketStateStore',
    metadata: { name: 'minio-store' },
    spec: { bucketName, endpoint: minio.hostPort, insecure: true },
  };
}

function secret(accessKey = minio.accessKey, secretKey = minio.secretKey): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'minio-creds' },
    data: {
      accessKeyID: Buffer.from(accessKey).toString('base64'),
      secretAccessKey: Buffer.from(secretKey).toString('base64'),
    },
  };
}

/** A writer on a fresh bucket, with a count of every S3 command it sends. */
async function freshWriter() {
  const bucket = `state-${++bucketNo}`;
  await minio.createBucket(bucket);
  const writer = createStateStoreWriter(bucketStore(bucket), secret(), {
    cacheDir: '/unused',
  }) as BucketStateStoreWriter;
  const counts: Record<string, number> = {};
  writer.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  const reset = () => {
    for (const k of Object.keys(counts)) delete counts[k];
  };
  return { bucket, writer, counts, reset };
}

async function keys(bucket: string): Promise<string[]> {
  const out = await raw.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

const dir = (d: string, n: number, tag = 'v1') => ({
  dir: d,
  files: Array.from({ length: n }, (_, i) => ({
    path: `f${i}.yaml`,
    content: `name: ${d}-${i}\ntag: ${tag}\n`,
  })),
});

describe('BucketStateStoreWriter against MinIO', () => {
  it('does not re-upload unchanged objects', async () => {
    const { bucket, writer, counts, reset } = await freshWriter();
    const batch = { message: 'Update from: w1', replaceDirs: [dir('dest/res/a', 3)] };
    expect(await writer.update(batch)).toEqual({ changed: true, filesWritten: 3, filesDeleted: 0 });
    expect(counts.PutObjectCommand).toBe(3);
    const before = await raw.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'dest/res/a/f0.yaml' }),
    );

    reset();
    expect(await writer.update(batch)).toEqual({
      changed: false,
      filesWritten: 0,
      filesDeleted: 0,
    });
    expect(counts.PutObjectCommand).toBeUndefined();
    expect(counts.DeleteObjectsCommand).toBeUndefined();
    const after = await raw.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'dest/res/a/f0.yaml' }),
    );
    expect(after.LastModified).toEqual(before.LastModified);
    expect(after.ETag).toBe(before.ETag);

    // One changed file → exactly one upload.
    reset();
    const changed = dir('dest/res/a', 3);
    changed.files[1] = { path: 'f1.yaml', content: 'changed\n' };
    const res = await writer.update({ message: 'Update from: w1', replaceDirs: [changed] });
    expect(res).toEqual({ changed: true, filesWritten: 1, filesDeleted: 0 });
    expect(counts.PutObjectCommand).toBe(1);
    expect(await writer.readFile('dest/res/a/f1.yaml')).toBe('changed\n');
    await writer.close();
  });

  it('deletes objects a replaced directory no longer holds, and nothing outside it', async () => {
    const { bucket, writer } = await freshWriter();
    await writer.update({
      message: 'Update from: w1',
      replaceDirs: [dir('res/a', 3), dir('res/ab', 1), dir('res/a-sibling', 1)],
    });
    const res = await writer.update({ message: 'Update from: w1', replaceDirs: [dir('res/a', 1)] });
    expect(res).toEqual({ changed: true, filesWritten: 0, filesDeleted: 2 });
    expect(await keys(bucket)).toEqual([
      'res/a-sibling/f0.yaml',
      'res/a/f0.yaml',
      'res/ab/f0.yaml',
    ]);
    expect(await writer.listFiles('res/a')).toEqual(['res/a/f0.yaml']);
    expect(await writer.listFiles('res')).toHaveLength(3);
    await writer.close();
  });

  it('writeFiles skips identical content; deletePaths removes one object or a whole prefix', async () => {
    const { bucket, writer, counts, reset } = await freshWriter();
    const file = { path: 'deps/static.yaml', content: 'a: 1\n' };
    await writer.update({ message: 'w', writeFiles: [file], replaceDirs: [dir('x/y', 2)] });
    reset();
    expect((await writer.update({ message: 'w', writeFiles: [file] })).changed).toBe(false);
    expect(counts.PutObjectCommand).toBeUndefined();

    // A stray object sharing the name prefix must survive deleting `deps/static.yaml`.
    await raw.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'deps/static.yaml.bak', Body: 'b' }),
    );
    const res = await writer.update({
      message: 'Delete from: w',
      deletePaths: ['deps/static.yaml', 'x', 'never/existed'],
    });
    expect(res).toEqual({ changed: true, filesWritten: 0, filesDeleted: 3 });
    expect(await keys(bucket)).toEqual(['deps/static.yaml.bak']);
    expect(await writer.readFile('deps/static.yaml')).toBeUndefined();
    await writer.close();
  });

  it('validatePermissions passes on a writable bucket and leaves nothing behind', async () => {
    const { bucket, writer } = await freshWriter();
    await writer.validatePermissions();
    expect(await keys(bucket)).toEqual([]);
    await writer.close();
  });

  it('a missing bucket is a clear, retryable StateStoreError until it is created', async () => {
    const bucket = `created-late-${++bucketNo}`;
    const writer = createStateStoreWriter(bucketStore(bucket), secret(), {
      cacheDir: '/unused',
    });
    for (const op of [
      () => writer.validatePermissions(),
      () => writer.update({ message: 'x', replaceDirs: [dir('a', 1)] }),
      () => writer.update({ message: 'x', writeFiles: [{ path: 'a', content: 'a' }] }),
      () => writer.readFile('a'),
    ]) {
      const err = (await op().catch((e: unknown) => e)) as StateStoreError;
      expect(err).toBeInstanceOf(StateStoreError);
      expect(err.message).toBe(
        `BucketStateStore "minio-store": bucket "${bucket}" does not exist at ${minio.endpoint}`,
      );
      expect(err.retryable).toBe(true);
      expect(err.fault).toBe('missing');
    }
    await minio.createBucket(bucket);
    expect((await writer.update({ message: 'x', replaceDirs: [dir('a', 1)] })).changed).toBe(true);
    expect(await keys(bucket)).toEqual(['a/f0.yaml']);
    await writer.close();
  });

  it('bad credentials are "access denied" without the secret key in the message', async () => {
    const bucket = `state-${++bucketNo}`;
    await minio.createBucket(bucket);
    const badSecret = 'wrong-secret-key-123';
    for (const sec of [secret(minio.accessKey, badSecret), secret('unknown-user', badSecret)]) {
      const writer = createStateStoreWriter(bucketStore(bucket), sec, { cacheDir: '/unused' });
      for (const op of [
        () => writer.validatePermissions(),
        () => writer.update({ message: 'x', replaceDirs: [dir('a', 1)] }),
      ]) {
        const err = (await op().catch((e: unknown) => e)) as StateStoreError;
        expect(err).toBeInstanceOf(StateStoreError);
        expect(err.message).toMatch(
          /access denied to bucket ".*" .*check the secret's accessKeyID/,
        );
        expect(err.message).not.toContain(badSecret);
        expect(err.retryable).toBe(false);
      }
      await writer.close();
    }
  });

  it('a secret without keys is refused up front', () => {
    expect(() =>
      createStateStoreWriter(
        bucketStore('b'),
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: {} },
        { cacheDir: '/unused' },
      ),
    ).toThrow(/secret is missing key: accessKeyID/);
  });

  it('an unreachable endpoint is a retryable StateStoreError', async () => {
    const store = bucketStore('b');
    store.spec = { ...store.spec!, endpoint: '127.0.0.1:9' };
    const writer = new BucketStateStoreWriter({ store, secret: secret(), maxAttempts: 1 });
    const err = (await writer.validatePermissions().catch((e: unknown) => e)) as StateStoreError;
    expect(err).toBeInstanceOf(StateStoreError);
    expect(err.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9: ECONNREFUSED/);
    expect(err.retryable).toBe(true);
    await writer.close();
  });
});
