import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { BucketStateStore, Secret } from '../model/types';
import { s3Fault } from './faults';
import { normalizeKey } from './paths';
import { secretValue } from './secret';
import {
  contentBytes,
  resolveBatch,
  StateStoreError,
  type StateStoreWriter,
  type UpdateBatch,
  type UpdateResult,
} from './writer';

export interface BucketStateStoreWriterOptions {
  store: BucketStateStore;
  /** Keys read: `accessKeyID`, `secretAccessKey` (required unless `spec.authMethod: IAM`). */
  secret?: Secret;
  /** Parallel uploads/heads per update (default 8). */
  concurrency?: number;
  /** Per-request timeout (default 30 s) and SDK attempts (default 3). */
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

const PERMISSION_CHECK_KEY = '.kratix/permissions-check';

/** S3's ETag of a single-part upload: the MD5 of the bytes, so unchanged objects are skipped. */
function md5Hex(content: Buffer): string {
  return createHash('md5').update(content).digest('hex');
}

const prefixOf = (dir: string) => (dir === '' ? '' : `${dir}/`);
const under = (key: string, dir: string) => dir === '' || key === dir || key.startsWith(`${dir}/`);

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/**
 * Writes an S3-compatible bucket the way Kratix does: objects whose MD5 equals the stored
 * ETag are left alone, objects a replaced directory no longer holds are deleted.
 */
export class BucketStateStoreWriter implements StateStoreWriter {
  /** Exposed so callers (and tests) can add middleware, e.g. request counting. */
  readonly client: S3Client;
  private readonly name: string;
  private readonly bucket: string;
  private readonly endpoint: string;
  private readonly concurrency: number;
  private readonly secrets: string[];

  constructor(options: BucketStateStoreWriterOptions) {
    const { store, secret } = options;
    this.name = store.metadata.name;
    const spec = store.spec;
    if (!spec?.bucketName || !spec.endpoint) {
      throw this.error('spec.bucketName and spec.endpoint are required', false);
    }
    this.bucket = spec.bucketName;
    // Kratix endpoints are `host:port`; the scheme comes from `insecure`.
    this.endpoint = /^https?:\/\//i.test(spec.endpoint)
      ? spec.endpoint
      : `${spec.insecure ? 'http' : 'https'}://${spec.endpoint}`;
    this.concurrency = options.concurrency ?? 8;
    const accessKeyId = secretValue(secret, 'accessKeyID');
    const secretAccessKey = secretValue(secret, 'secretAccessKey');
    this.secrets = [secretAccessKey].filter((s): s is string => !!s);
    let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    if (spec.authMethod !== 'IAM') {
      if (!secret)
        throw this.error('secret not provided (needs accessKeyID, secretAccessKey)', false);
      if (!accessKeyId) throw this.error('secret is missing key: accessKeyID', false);
      if (!secretAccessKey) throw this.error('secret is missing key: secretAccessKey', false);
      credentials = { accessKeyId, secretAccessKey };
    }
    this.client = new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials, // undefined → the SDK's default chain (IAM)
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: {
        requestTimeout: options.requestTimeoutMs ?? 30_000,
        // Without it the SDK only logs a warning and waits on a silent server forever.
        throwOnRequestTimeout: true,
        connectionTimeout: Math.min(options.requestTimeoutMs ?? 30_000, 10_000),
      },
      // Plain MD5 ETags and no trailing checksums: what every S3-compatible server accepts.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async update(input: UpdateBatch): Promise<UpdateResult> {
    let plan: ReturnType<BucketStateStoreWriter['plan']>;
    // No compare-and-swap on a bucket: derived files are computed just before the upload.
    const batch = await resolveBatch(input);
    try {
      plan = this.plan(batch);
    } catch (err) {
      throw this.error((err as Error).message, false);
    }
    try {
      // What is there now, for every directory we own wholesale (replaced or deleted).
      const existing = new Map<string, string | undefined>();
      for (const { dir, maybeFile } of plan.listedDirs) {
        // A deletePath may name one object, so list the bare prefix and filter.
        for (const obj of await this.list(maybeFile ? dir : prefixOf(dir))) {
          if (under(obj.key, dir)) existing.set(obj.key, obj.etag);
        }
      }
      // Lone files outside those directories: one HEAD each.
      const loose = [...plan.desired.keys()].filter(
        (k) => !plan.listedDirs.some((d) => under(k, d.dir)),
      );
      await mapLimit(loose, this.concurrency, async (key) => {
        const etag = await this.headEtag(key);
        if (etag !== undefined) existing.set(key, etag);
      });

      const toPut = [...plan.desired].filter(
        ([key, content]) => existing.get(key) !== md5Hex(content),
      );
      await mapLimit(toPut, this.concurrency, async ([key, content]) => {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: content,
            ContentType: contentType(key, content),
          }),
        );
      });
      // Deletes last, so a reader never sees a replaced directory half-empty.
      const toDelete = [...existing.keys()].filter((k) => !plan.desired.has(k));
      await this.deleteKeys(toDelete);
      return {
        changed: toPut.length + toDelete.length > 0,
        filesWritten: toPut.length,
        filesDeleted: toDelete.length,
      };
    } catch (err) {
      throw this.toStateStoreError(err);
    }
  }

  async readFile(file: string): Promise<string | undefined> {
    return (await this.readFileBytes(file))?.toString('utf8');
  }

  async readFileBytes(file: string): Promise<Buffer | undefined> {
    let key: string;
    try {
      key = normalizeKey(file, 'file');
    } catch (err) {
      throw this.error((err as Error).message, false);
    }
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (
        e.name !== 'NoSuchBucket' &&
        (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
      ) {
        return undefined;
      }
      throw this.toStateStoreError(err);
    }
  }

  async listFiles(dir: string): Promise<string[]> {
    let d: string;
    try {
      d = normalizeKey(dir, 'dir');
    } catch (err) {
      throw this.error((err as Error).message, false);
    }
    try {
      return (await this.list(prefixOf(d))).map((o) => o.key).sort();
    } catch (err) {
      throw this.toStateStoreError(err);
    }
  }

  async validatePermissions(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      // HEAD only proves read access; a tiny put/delete proves we can write.
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: PERMISSION_CHECK_KEY, Body: 'ok' }),
      );
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: PERMISSION_CHECK_KEY }),
      );
    } catch (err) {
      throw this.toStateStoreError(err);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private plan(batch: UpdateBatch) {
    const desired = new Map<string, Buffer>();
    const listedDirs: { dir: string; maybeFile: boolean }[] = [];
    for (const d of batch.replaceDirs ?? []) {
      const dir = normalizeKey(d.dir, 'dir');
      listedDirs.push({ dir, maybeFile: false });
      for (const key of [...desired.keys()]) if (under(key, dir)) desired.delete(key);
      for (const f of d.files) {
        const key = normalizeKey(dir === '' ? f.path : `${dir}/${f.path}`, 'file');
        if (key === '' || key === dir) throw new Error(`file path "${f.path}" is empty`);
        desired.set(key, contentBytes(f.content as string | Uint8Array));
      }
    }
    for (const f of batch.writeFiles ?? []) {
      const key = normalizeKey(f.path, 'file');
      if (key === '') throw new Error(`file path "${f.path}" is empty`);
      desired.set(key, contentBytes(f.content as string | Uint8Array));
    }
    for (const p of batch.deletePaths ?? []) {
      const target = normalizeKey(p, 'deletePath');
      // `target` may be one object or a "directory" prefix; listing `target` covers both.
      listedDirs.push({ dir: target, maybeFile: true });
      for (const key of [...desired.keys()]) if (under(key, target)) desired.delete(key);
    }
    return { desired, listedDirs };
  }

  private async list(prefix: string): Promise<{ key: string; etag?: string }[]> {
    const out: { key: string; etag?: string }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) out.push({ key: o.Key, etag: stripQuotes(o.ETag) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async headEtag(key: string): Promise<string | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return stripQuotes(head.ETag);
    } catch (err) {
      const e = err as { name?: string };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw this.error(
          `could not delete ${failed.length} object(s), e.g. ${first?.Key}: ${first?.Code} ${first?.Message ?? ''}`.trim(),
        );
      }
    }
  }

  private error(message: string, retryable = true): StateStoreError {
    return new StateStoreError('BucketStateStore', this.name ?? '<unnamed>', message, retryable);
  }

  private toStateStoreError(err: unknown): StateStoreError {
    return s3Fault(err, {
      store: this.name,
      bucket: this.bucket,
      endpoint: this.endpoint,
      secrets: this.secrets,
    });
  }
}

function stripQuotes(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

function contentType(key: string, content: Buffer): string {
  if (!isUtf8(content)) return 'application/octet-stream';
  if (/\.ya?ml$/i.test(key)) return 'application/yaml';
  if (/\.json$/i.test(key)) return 'application/json';
  return 'text/plain; charset=utf-8';
}
