import { createHash } from 'node:crypto';
import * as path from 'node:path';
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
import { scrub, secretValue } from './secret';
import {
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

function md5Hex(content: string): string {
  return createHash('md5').update(content).digest('hex');
}

/** Root-relative key without leading `./` or `/`; refuses `..`. '' is the root. */
function normalizeKey(p: string, what: string): string {
  const norm = path.posix.normalize(p.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  const key = norm === '.' || norm === './' ? '' : norm.replace(/^\/+/, '').replace(/\/+$/, '');
  if (key.split('/').some((s) => s === '..')) {
    throw new Error(`${what} "${p}" must stay inside the state store`);
  }
  return key;
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

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
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
        connectionTimeout: Math.min(options.requestTimeoutMs ?? 30_000, 10_000),
      },
      // Plain MD5 ETags and no trailing checksums: what every S3-compatible server accepts.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async update(batch: UpdateBatch): Promise<UpdateResult> {
    let plan: ReturnType<BucketStateStoreWriter['plan']>;
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
            ContentType: contentType(key),
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
    const key = normalizeKey(file, 'file');
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      const e = err as SdkError;
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) {
        if (e.name === 'NoSuchBucket') throw this.toStateStoreError(err);
        return undefined;
      }
      throw this.toStateStoreError(err);
    }
  }

  async listFiles(dir: string): Promise<string[]> {
    const d = normalizeKey(dir, 'dir');
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
    const desired = new Map<string, string>();
    const listedDirs: { dir: string; maybeFile: boolean }[] = [];
    for (const d of batch.replaceDirs ?? []) {
      const dir = normalizeKey(d.dir, 'dir');
      listedDirs.push({ dir, maybeFile: false });
      for (const key of [...desired.keys()]) if (under(key, dir)) desired.delete(key);
      for (const f of d.files) {
        const key = normalizeKey(dir === '' ? f.path : `${dir}/${f.path}`, 'file');
        if (key === '' || key === dir) throw new Error(`file path "${f.path}" is empty`);
        desired.set(key, f.content);
      }
    }
    for (const f of batch.writeFiles ?? []) {
      const key = normalizeKey(f.path, 'file');
      if (key === '') throw new Error(`file path "${f.path}" is empty`);
      desired.set(key, f.content);
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
      const e = err as SdkError;
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
    if (err instanceof StateStoreError) return err;
    const e = (err ?? {}) as SdkError;
    const status = e.$metadata?.httpStatusCode;
    const name = e.name ?? '';
    // HEAD responses carry no error body: the SDK then says only "Unknown".
    const detail =
      name === 'Unknown' || name === 'UnknownError' || name === ''
        ? status
          ? `HTTP ${status}`
          : ''
        : scrub(`${name}${e.message && e.message !== name ? `: ${e.message}` : ''}`, this.secrets);
    if (name === 'NoSuchBucket' || (status === 404 && (name === 'NotFound' || name === '404'))) {
      return this.error(`bucket "${this.bucket}" does not exist at ${this.endpoint}`, false);
    }
    if (
      status === 403 ||
      status === 401 ||
      /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|Forbidden|InvalidToken/.test(name)
    ) {
      return this.error(
        `access denied to bucket "${this.bucket}" at ${this.endpoint} (check the secret's accessKeyID/secretAccessKey and the bucket policy): ${detail}`,
        false,
      );
    }
    const code = e.code ?? (err as { cause?: { code?: string } })?.cause?.code;
    if (code && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH/.test(code)) {
      return this.error(`cannot reach ${this.endpoint}: ${code}`);
    }
    if (name === 'TimeoutError' || /timed? ?out/i.test(e.message ?? '')) {
      return this.error(`request to ${this.endpoint} timed out: ${detail}`);
    }
    return this.error(`S3 request to ${this.endpoint} failed: ${detail || String(err)}`);
  }
}

function stripQuotes(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

function contentType(key: string): string {
  if (/\.ya?ml$/i.test(key)) return 'application/yaml';
  if (/\.json$/i.test(key)) return 'application/json';
  return 'text/plain; charset=utf-8';
}
