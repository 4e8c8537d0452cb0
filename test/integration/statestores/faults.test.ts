import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketStateStore, GitStateStore } from '../../../src/model/types';
import { GitStateStoreWriter } from '../../../src/statestores/git';
import { BucketStateStoreWriter } from '../../../src/statestores/s3';
import { StateStoreError } from '../../../src/statestores/writer';
import { commitMessages, createBareRepo } from '../../support/git-bare';
import { startMinio, type MinioServer } from '../../support/minio';

/**
 * Faults are classified in one place (src/statestores/faults.ts): everything a remote can
 * do wrong for a while is retried, only bad input is final. Each case here is a real
 * server misbehaving, not a mocked error string.
 */

let work: string;
const servers: Server[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'faults-'));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await rm(work, { recursive: true, force: true });
});

/** An HTTP server answering every request with `status` and `body`. */
async function answering(status: number, body: string): Promise<string> {
  const server = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'Content-Type': 'application/xml' });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A TCP server that accepts connections and never says a word. */
async function silent(): Promise<string> {
  const server = createTcpServer((socket) => sockets.add(socket));
  servers.push(server as unknown as Server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failure(op: () => Promise<unknown>): Promise<StateStoreError> {
  const err = await op().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StateStoreError);
  return err as StateStoreError;
}

const gitStore = (url: string): GitStateStore => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'GitStateStore',
  metadata: { name: 'faulty' },
  spec: { url, branch: 'main' },
});
let n = 0;
const gitWriter = (url: string, extra: { timeoutMs?: number; maxPushAttempts?: number } = {}) =>
  new GitStateStoreWriter({
    store: gitStore(url),
    cacheDir: path.join(work, `cache-${++n}`),
    ...extra,
  });
const oneFile = { message: 'Update from: f', writeFiles: [{ path: 'f.yaml', content: 'f' }] };

describe('Git faults', () => {
  it('an HTTP 5xx from the server is retryable and names the server error', async () => {
    const host = await answering(503, 'maintenance');
    const err = await failure(() => gitWriter(`http://${host}/repo.git`).validatePermissions());
    expect(err).toMatchObject({ retryable: true, fault: 'server' });
    expect(err.message).toMatch(
      /GitStateStore "faulty": http:\/\/127\.0\.0\.1:\d+\/repo\.git answered with a server error: .*503/,
    );
  });

  it('a server that stops answering is a retryable timeout', async () => {
    const host = await silent();
    const err = await failure(() =>
      gitWriter(`http://${host}/repo.git`, { timeoutMs: 1500 }).update(oneFile),
    );
    expect(err).toMatchObject({ retryable: true, fault: 'timeout' });
    expect(err.message).toMatch(/timed out/);
  });

  it('a branch locked on the remote is retried, and the write lands once the lock is gone', async () => {
    const bare = path.join(work, 'locked.git');
    const url = await createBareRepo(bare);
    const writer = gitWriter(url, { maxPushAttempts: 2 });
    await writer.update({ message: 'first', writeFiles: [{ path: 'a', content: 'a' }] });
    const lock = path.join(bare, 'refs', 'heads', 'main.lock');
    await writeFile(lock, '');
    const err = await failure(() => writer.update(oneFile));
    expect(err).toMatchObject({ retryable: true, fault: 'rejected' });
    expect(err.message).toMatch(/still rejected after 2 attempts: .*lock/);
    await rm(lock);
    expect((await writer.update(oneFile)).changed).toBe(true);
    expect(await commitMessages(bare)).toEqual(['Update from: f', 'first']);
    await writer.close();
  });

  it('a malformed URL or unknown protocol is final', async () => {
    expect(() => gitWriter('https://127.0.0.1:99999/x.git')).toThrow(
      /GitStateStore "faulty": spec.url is not a valid URL/,
    );
    const err = await failure(() => gitWriter('htps://example.invalid/x.git').update(oneFile));
    expect(err).toMatchObject({ retryable: false, fault: 'badUrl' });
    expect(err.message).toMatch(/htps:\/\/example\.invalid\/x\.git is not a URL git can use/);
  });
});

describe('S3 faults', () => {
  let minio: MinioServer;
  beforeAll(async () => {
    minio = await startMinio({ dataDir: path.join(work, 'minio') });
  });
  afterAll(async () => {
    await minio?.stop();
  });

  const s3Writer = (endpoint: string, bucketName = 'b', requestTimeoutMs?: number) => {
    const store: BucketStateStore = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'BucketStateStore',
      metadata: { name: 'faulty' },
      spec: { bucketName, endpoint, insecure: true },
    };
    return new BucketStateStoreWriter({
      store,
      secret: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        stringData: { accessKeyID: minio.accessKey, secretAccessKey: minio.secretKey },
      },
      maxAttempts: 1,
      requestTimeoutMs,
    });
  };

  it('SlowDown and 5xx answers are retryable and named', async () => {
    const host = await answering(
      503,
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
    );
    // A directory is listed (GET, whose error body names the code); a HEAD would say only 503.
    const err = await failure(() =>
      s3Writer(host).update({
        message: 'x',
        replaceDirs: [{ dir: 'd', files: [{ path: 'a', content: 'a' }] }],
      }),
    );
    expect(err).toMatchObject({ retryable: true, fault: 'server' });
    expect(err.message).toMatch(
      /BucketStateStore "faulty": http:\/\/127\.0\.0\.1:\d+ answered with a server error: SlowDown/,
    );
  });

  it('a server that stops answering is a retryable timeout', async () => {
    const host = await silent();
    const err = await failure(() => s3Writer(host, 'b', 1000).validatePermissions());
    expect(err).toMatchObject({ retryable: true, fault: 'timeout' });
  });

  it('an invalid bucket name is final', async () => {
    const writer = s3Writer(minio.hostPort, 'Bad_Bucket');
    for (const op of [
      () => writer.validatePermissions(),
      () => writer.update({ message: 'x', replaceDirs: [{ dir: 'd', files: [] }] }),
    ]) {
      const err = await failure(op);
      expect(err).toMatchObject({ retryable: false, fault: 'badInput' });
      expect(err.message).toMatch(/BucketStateStore "faulty": S3 request for bucket "Bad_Bucket"/);
    }
  });
});
