import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketStateStore, GitStateStore } from '../../../src/model/types';
import { BucketStateStoreWriter } from '../../../src/statestores/s3';
import { GitStateStoreWriter } from '../../../src/statestores/git';
import { commitMessages, createBareRepo, git } from '../../support/git-bare';
import { startMinio, type MinioServer } from '../../support/minio';

const exec = promisify(execFile);

/** Every byte value once: invalid UTF-8 (\xFF\xFE…), NUL, CR and LF among them. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
/** Differs from ALL_BYTES only in invalid UTF-8: equal once both are decoded as text. */
const ALL_BYTES_VARIANT = Buffer.from(ALL_BYTES.map((b) => (b === 0xff ? 0xfe : b)));

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'binary-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function blobAt(bare: string, file: string): Promise<Buffer> {
  const { stdout } = await exec('git', ['--git-dir', bare, 'show', `refs/heads/main:${file}`], {
    encoding: 'buffer',
  });
  return stdout;
}

describe('binary files reach the state store byte for byte', () => {
  it('through Git, even when the repository asks for eol conversion', async () => {
    const bare = path.join(work, 'bin.git');
    const url = await createBareRepo(bare);
    // The repository's own .gitattributes must not rewrite what we write.
    const seed = path.join(work, 'seed');
    await git(['clone', '-q', url, seed]);
    await git(['checkout', '-q', '-b', 'main'], seed);
    await writeFile(path.join(seed, '.gitattributes'), '* text eol=crlf\n');
    await git(['add', '-A'], seed);
    await git(['commit', '-q', '-m', 'attributes'], seed);
    await git(['push', '-q', 'origin', 'main'], seed);

    const store: GitStateStore = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'GitStateStore',
      metadata: { name: 'bin' },
      spec: { url },
    };
    const writer = new GitStateStoreWriter({ store, cacheDir: path.join(work, 'cache') });
    const batch = (content: Buffer) => ({
      message: 'Update from: bin',
      replaceDirs: [
        {
          dir: 'out',
          files: [
            { path: 'all-bytes.bin', content },
            { path: 'text.yaml', content: 'a: 1\nb: 2\n' },
          ],
        },
      ],
    });
    expect((await writer.update(batch(ALL_BYTES))).changed).toBe(true);
    expect((await blobAt(bare, 'out/all-bytes.bin')).equals(ALL_BYTES)).toBe(true);
    expect((await blobAt(bare, 'out/text.yaml')).toString()).toBe('a: 1\nb: 2\n');
    expect((await writer.readFileBytes('out/all-bytes.bin'))?.equals(ALL_BYTES)).toBe(true);

    // The unchanged check compares bytes: the same bytes make no commit, other bytes do.
    expect((await writer.update(batch(ALL_BYTES))).changed).toBe(false);
    expect((await writer.update(batch(ALL_BYTES_VARIANT))).changed).toBe(true);
    expect((await blobAt(bare, 'out/all-bytes.bin')).equals(ALL_BYTES_VARIANT)).toBe(true);
    expect(await commitMessages(bare)).toEqual([
      'Update from: bin',
      'Update from: bin',
      'attributes',
    ]);
    await writer.close();
  });

  describe('through S3', () => {
    let minio: MinioServer;
    let raw: S3Client;
    beforeAll(async () => {
      minio = await startMinio({ dataDir: path.join(work, 'minio') });
      await minio.createBucket('bin');
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
    });

    it('with the ETag of the bytes, so unchanged bytes are not uploaded again', async () => {
      const store: BucketStateStore = {
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'BucketStateStore',
        metadata: { name: 'bin' },
        spec: { bucketName: 'bin', endpoint: minio.hostPort, insecure: true },
      };
      const writer = new BucketStateStoreWriter({
        store,
        secret: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 's' },
          stringData: { accessKeyID: minio.accessKey, secretAccessKey: minio.secretKey },
        },
      });
      const batch = (content: Buffer) => ({
        message: 'Update from: bin',
        replaceDirs: [{ dir: 'out', files: [{ path: 'all-bytes.bin', content }] }],
      });
      expect((await writer.update(batch(ALL_BYTES))).filesWritten).toBe(1);
      const got = await raw.send(new GetObjectCommand({ Bucket: 'bin', Key: 'out/all-bytes.bin' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(ALL_BYTES)).toBe(true);
      expect((await writer.readFileBytes('out/all-bytes.bin'))?.equals(ALL_BYTES)).toBe(true);
      const head = await raw.send(
        new HeadObjectCommand({ Bucket: 'bin', Key: 'out/all-bytes.bin' }),
      );
      expect(head.ContentType).toBe('application/octet-stream');

      expect((await writer.update(batch(ALL_BYTES))).changed).toBe(false);
      expect((await writer.update(batch(ALL_BYTES_VARIANT))).filesWritten).toBe(1);
      expect((await writer.readFileBytes('out/all-bytes.bin'))?.equals(ALL_BYTES_VARIANT)).toBe(
        true,
      );
      await writer.close();
    });
  });
});
