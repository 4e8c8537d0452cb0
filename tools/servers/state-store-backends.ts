import { listedMessages } from '../../src/statestores/commit-message';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { simpleGit } from 'simple-git';
import { PROJECT_ROOT } from '../../src/config';
import { startGitHttpsServer } from './git-https';
import { startMinio } from './minio';

export type StateStoreBackend = 'git' | 'git-https' | 's3';
export const STATE_STORE_BACKENDS: StateStoreBackend[] = ['git', 'git-https', 's3'];

/** A running state-store server with the platform YAML (Destinations) that points at it. */
export interface ProvisionedStateStore {
  backend: StateStoreBackend;
  /** Where a person looks: a repository path or URL, or a bucket. */
  location: string;
  /** examples/mongodb/platform*.yaml with the placeholders filled in. */
  platformYaml: string;
  /** Reads a root-relative file as the GitOps agent would see it (undefined when absent). */
  read(file: string): Promise<string | undefined>;
  /** Commit messages, newest first, a grouped commit as the batch messages it lists (Git backends; empty for S3). */
  history(): Promise<string[]>;
  stop(): Promise<void>;
}

function render(file: string, vars: Record<string, string>): string {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  return text.replace(/\$\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}

async function bareRepo(dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await simpleGit().init(true, [dir, '--initial-branch=main']);
  await simpleGit(dir).addConfig('http.receivepack', 'true');
  return dir;
}

function gitReaders(repo: string): Pick<ProvisionedStateStore, 'read' | 'history'> {
  const git = simpleGit();
  return {
    read: (file) => git.raw(['--git-dir', repo, 'show', `main:${file}`]).catch(() => undefined),
    history: async () =>
      (await git.raw(['--git-dir', repo, 'log', '--format=%B%x00', 'main']).catch(() => ''))
        .split('\0')
        .filter((m) => m.trim() !== '')
        .flatMap((m) => listedMessages(m.trim())),
  };
}

/**
 * Starts the chosen backend for the demo and tests: a local bare repository (file://),
 * a Git server over HTTPS with basic auth and a self-signed certificate, or MinIO.
 */
export async function provisionStateStore(
  backend: StateStoreBackend,
  dir: string,
): Promise<ProvisionedStateStore> {
  fs.mkdirSync(dir, { recursive: true });
  if (backend === 'git') {
    const repo = await bareRepo(path.join(dir, 'state-store.git'));
    return {
      backend,
      location: repo,
      platformYaml: render('examples/mongodb/platform.yaml', { STATE_STORE_URL: `file://${repo}` }),
      ...gitReaders(repo),
      stop: async () => undefined,
    };
  }
  if (backend === 'git-https') {
    const root = path.join(dir, 'git-server');
    const repo = await bareRepo(path.join(root, 'state-store.git'));
    const username = 'kratix';
    const password = randomBytes(12).toString('hex');
    const server = await startGitHttpsServer({ root, username, password });
    const url = server.url('state-store.git');
    return {
      backend,
      location: url,
      platformYaml: render('examples/mongodb/platform-git-https.yaml', {
        STATE_STORE_URL: url,
        GIT_USERNAME: username,
        GIT_PASSWORD: password,
        GIT_CA_BUNDLE_BASE64: fs.readFileSync(server.caFile).toString('base64'),
      }),
      ...gitReaders(repo),
      stop: () => server.stop(),
    };
  }
  const minio = await startMinio({ dataDir: path.join(dir, 'minio') });
  await minio.createBucket('kratix');
  const s3 = new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
  });
  return {
    backend,
    location: `s3://kratix at ${minio.endpoint}`,
    platformYaml: render('examples/mongodb/platform-s3.yaml', {
      S3_ENDPOINT: minio.hostPort,
      S3_ACCESS_KEY: minio.accessKey,
      S3_SECRET_KEY: minio.secretKey,
    }),
    read: async (file) => {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: 'kratix', Key: file }));
        return await out.Body?.transformToString();
      } catch {
        return undefined;
      }
    },
    history: async () => [],
    stop: async () => {
      s3.destroy();
      await minio.stop();
    },
  };
}
