import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './ports';

/**
 * A throw-away MinIO server on 127.0.0.1 for tests, the demo and the bench. Lives in src
 * (not test/support) because the bench is built from src.
 */
export interface MinioServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** `127.0.0.1:<port>`, the form a BucketStateStore's `spec.endpoint` takes. */
  hostPort: string;
  accessKey: string;
  secretKey: string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StartMinioOptions {
  dataDir: string;
  port?: number;
  /** Default: $MINIO_BIN, else `$PROMISEFLOW_CACHE_DIR/bin/minio` (~/.cache/promiseflow). */
  binary?: string;
  accessKey?: string;
  secretKey?: string;
  readyTimeoutMs?: number;
}

export function defaultMinioBinary(): string {
  if (process.env.MINIO_BIN) return process.env.MINIO_BIN;
  const cache = process.env.PROMISEFLOW_CACHE_DIR ?? path.join(homedir(), '.cache', 'promiseflow');
  return path.join(cache, 'bin', 'minio');
}

export async function startMinio(options: StartMinioOptions): Promise<MinioServer> {
  const binary = options.binary ?? defaultMinioBinary();
  if (!existsSync(binary)) {
    throw new Error(`MinIO binary not found at ${binary}: run scripts/setup.sh (or set MINIO_BIN)`);
  }
  await mkdir(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const consolePort = await freePort();
  const accessKey = options.accessKey ?? 'promiseflow';
  const secretKey = options.secretKey ?? 'promiseflow-secret';
  const hostPort = `127.0.0.1:${port}`;
  const endpoint = `http://${hostPort}`;

  const child = spawn(
    binary,
    [
      'server',
      options.dataDir,
      '--address',
      hostPort,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--quiet',
    ],
    {
      env: {
        ...process.env,
        MINIO_ROOT_USER: accessKey,
        MINIO_ROOT_PASSWORD: secretKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Keep the tail of the output for error messages only.
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );

  // Never outlive the process that started us (a failed test run would leak servers).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`MinIO exited (code ${exited}) before becoming ready:\n${output}`);
    }
    try {
      const res = await fetch(`${endpoint}/minio/health/live`, {
        signal: AbortSignal.timeout(1000),
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`MinIO did not become ready at ${endpoint}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    endpoint,
    hostPort,
    accessKey,
    secretKey,
    async createBucket(name: string) {
      const client = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
      });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (err) {
        // Idempotent: a data dir reused across runs already has its buckets.
        if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
      } finally {
        client.destroy();
      }
    },
    stop,
  };
}
