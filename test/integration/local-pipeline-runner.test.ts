import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Container, KratixObject, KratixPromise, Pipeline } from '../../src/model/types';
import { loadImageTable, type ImageTable } from '../../src/pipelines/image-table';
import { LocalPipelineRunner } from '../../src/pipelines/local';
import { PipelineFailedError, type PipelineRunRequest } from '../../src/pipelines/runner';

const EXAMPLES = path.resolve(__dirname, '../../examples');
const MONGO_IMAGE = 'ghcr.io/syntasso/kratix-marketplace/mongodb-configure-pipeline';

let imageTable: ImageTable;
let scratchRoot: string;

beforeAll(async () => {
  imageTable = await loadImageTable(path.join(EXAMPLES, 'images.yaml'));
  scratchRoot = await mkdtemp(path.join(tmpdir(), 'promiseflow-runner-test-'));
});

afterAll(async () => {
  await rm(scratchRoot, { recursive: true, force: true });
});

async function loadExample<T = KratixObject>(file: string): Promise<T> {
  return YAML.parse(await readFile(path.join(EXAMPLES, 'mongodb', file), 'utf8')) as T;
}

function pipeline(name: string, containers: Container[]): Pipeline {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name },
    spec: { containers },
  };
}

function sh(name: string, script: string, extra: Partial<Container> = {}): Container {
  return { name, image: 'busybox', command: ['sh', '-c', script], ...extra };
}

async function request(
  p: Pipeline,
  object: KratixObject,
  overrides: Partial<PipelineRunRequest> = {},
): Promise<PipelineRunRequest> {
  return {
    pipeline: p,
    object,
    action: 'configure',
    type: 'resource',
    promiseName: 'mongodb',
    workDir: await mkdtemp(path.join(scratchRoot, 'run-')),
    ...overrides,
  };
}

async function runFailure(
  runner: LocalPipelineRunner,
  req: PipelineRunRequest,
): Promise<PipelineFailedError> {
  const err = await runner.run(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PipelineFailedError);
  return err as PipelineFailedError;
}

const mongoRequest = (major: string): Promise<KratixObject> => loadExample(`mongo-v${major}.yaml`);

/** States (R, S, Z…) of the host's processes whose command line is exactly `argv`. */
async function hostProcessStates(argv: string[]): Promise<string[]> {
  const wanted = `${argv.join('\0')}\0`;
  const states: string[] = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline !== wanted) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat) states.push(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  }
  return states;
}

describe('LocalPipelineRunner with the MongoDB example images', () => {
  const expected: Record<string, Record<string, string>> = {
    'v0.1.0': { '4': '4.4.23', '5': '5.0.14', '6': '6.0.10' },
    'v0.2.0': { '4': '4.4.24', '5': '5.0.15', '6': '6.0.10' },
  };

  for (const [tag, versions] of Object.entries(expected)) {
    for (const [major, version] of Object.entries(versions)) {
      it(`${tag} turns majorVersion ${major} into MongoDB ${version}`, async () => {
        const lines: Record<string, unknown>[] = [];
        const runner = new LocalPipelineRunner({
          imageTable,
          logger: (l) => lines.push(l as Record<string, unknown>),
        });
        const p = pipeline('instance-configure', [
          { name: 'create-instance', image: `${MONGO_IMAGE}:${tag}` },
        ]);
        const result = await runner.run(await request(p, await mongoRequest(major)));

        expect(result.status).toEqual({ message: `mongodb version: ${version}`, version });
        expect(result.containers).toEqual([
          expect.objectContaining({ name: 'create-instance', exitCode: 0 }),
        ]);
        expect((await readdir(result.outputDir)).sort()).toEqual([
          'mongodb-instance.yaml',
          'secret.yaml',
        ]);
        const instance = YAML.parse(
          await readFile(path.join(result.outputDir, 'mongodb-instance.yaml'), 'utf8'),
        );
        expect(instance).toMatchObject({
          apiVersion: 'mongodbcommunity.mongodb.com/v1',
          kind: 'MongoDBCommunity',
          metadata: { name: `mongodb-mongo-v${major}`, namespace: 'default' },
          spec: { version },
        });
        const secret = YAML.parse(
          await readFile(path.join(result.outputDir, 'secret.yaml'), 'utf8'),
        );
        expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret' });
        expect(secret.stringData.password).toMatch(/^[0-9a-f]{24}$/);
        expect(lines).toContainEqual(
          expect.objectContaining({
            pipeline: 'instance-configure',
            container: 'create-instance',
            line: expect.stringContaining(version),
          }),
        );
      });
    }
  }

  it('writes identical bytes on a re-run', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('instance-configure', [
      { name: 'create-instance', image: `${MONGO_IMAGE}:v0.2.0` },
    ]);
    const read = async (dir: string) =>
      Promise.all(['mongodb-instance.yaml', 'secret.yaml'].map((f) => readFile(path.join(dir, f))));
    const a = await runner.run(await request(p, await mongoRequest('5')));
    const b = await runner.run(await request(p, await mongoRequest('5')));
    expect(a.outputDir).not.toBe(b.outputDir);
    expect(await read(b.outputDir)).toEqual(await read(a.outputDir));
  });

  it('fails clearly on an unsupported majorVersion', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('instance-configure', [
      { name: 'create-instance', image: `${MONGO_IMAGE}:v0.1.0` },
    ]);
    const object = await mongoRequest('4');
    (object.spec as Record<string, unknown>).majorVersion = '3';
    const err = await runFailure(runner, await request(p, object));
    expect(err.reason).toBe('exited with code 1');
    expect(err.logTail).toContain('unsupported majorVersion "3"');
  });

  it('runs the Promise configure workflow of both promise files', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    for (const file of ['promise.yaml', 'promise-v0.2.0.yaml']) {
      const promise = await loadExample<KratixPromise>(file);
      const p = promise.spec?.workflows?.promise?.configure?.[0];
      expect(p?.metadata.name).toBe('promise-configure');
      const result = await runner.run(
        await request(p as Pipeline, promise, { type: 'promise', promiseName: 'mongodb' }),
      );
      const docs = YAML.parseAllDocuments(
        await readFile(path.join(result.outputDir, 'mongodb-operator.yaml'), 'utf8'),
      ).map((d) => d.toJS() as KratixObject);
      expect(docs).toContainEqual(
        expect.objectContaining({
          kind: 'Deployment',
          metadata: expect.objectContaining({ name: 'mongodb-kubernetes-operator' }),
        }),
      );
    }
  });
});

describe('LocalPipelineRunner sandbox', () => {
  it('keeps writes outside /kratix off the host, while /kratix/output files still arrive', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const id = `pf-sandbox-${process.pid}-${Date.now()}`;
    const escapes = [`/tmp/${id}-rel`, `/tmp/${id}-abs`, `/etc/${id}`, `${scratchRoot}/${id}`];
    const p = pipeline('escape', [
      sh(
        'writer',
        [
          'cd /kratix/output',
          `echo rel > ../../tmp/${id}-rel`,
          `echo abs > /tmp/${id}-abs && cat /tmp/${id}-abs > /kratix/output/private-tmp`,
          `{ echo etc > /etc/${id}; } 2> /kratix/output/etc-error || true`,
          `{ echo host > ${scratchRoot}/${id}; } 2> /kratix/output/host-error || true`,
          'echo delivered > /kratix/output/result.yaml',
        ].join('\n'),
      ),
    ]);
    const result = await runner.run(await request(p, await mongoRequest('4')));

    for (const file of escapes) expect(existsSync(file), file).toBe(false);
    expect(await readFile(path.join(result.outputDir, 'result.yaml'), 'utf8')).toBe('delivered\n');
    // The container's own /tmp is writable; it is private, so it vanished with the container.
    expect(await readFile(path.join(result.outputDir, 'private-tmp'), 'utf8')).toBe('abs\n');
    expect(await readFile(path.join(result.outputDir, 'etc-error'), 'utf8')).toMatch(
      /Read-only file system/,
    );
    // A host directory under /tmp is hidden by the private /tmp, not merely read-only.
    expect(await readFile(path.join(result.outputDir, 'host-error'), 'utf8')).toMatch(
      /Directory nonexistent|No such file or directory/,
    );
  });

  it('drops every capability, so even root cannot make the file system writable again', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('remount', [
      sh(
        'root',
        'id -u > /kratix/output/uid; grep CapEff /proc/self/status > /kratix/output/caps; ' +
          'mount -o remount,rw / 2>/dev/null; echo $? > /kratix/output/remount',
      ),
    ]);
    const result = await runner.run(await request(p, await mongoRequest('4')));
    const read = (f: string) => readFile(path.join(result.outputDir, f), 'utf8');
    expect((await read('caps')).trim()).toBe('CapEff:\t0000000000000000');
    expect((await read('remount')).trim()).not.toBe('0');
  });

  it('finds image programs kept under /tmp, which the container otherwise sees private', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'promiseflow-images-'));
    try {
      const program = path.join(dir, 'bin', 'hello');
      await mkdir(path.dirname(program));
      await writeFile(program, '#!/bin/sh\necho "hello $1" > /kratix/output/hello.txt\n', {
        mode: 0o755,
      });
      await writeFile(
        path.join(dir, 'images.yaml'),
        'images:\n  example.com/hello:v1:\n    program: bin/hello\n    args: [world]\n',
      );
      const runner = new LocalPipelineRunner({
        imageTable: await loadImageTable(path.join(dir, 'images.yaml')),
      });
      const p = pipeline('hello', [{ name: 'hello', image: 'example.com/hello:v1' }]);
      const result = await runner.run(await request(p, await mongoRequest('4')));
      expect(await readFile(path.join(result.outputDir, 'hello.txt'), 'utf8')).toBe(
        'hello world\n',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['.git/config', 'mkdir /kratix/output/.git; echo x > /kratix/output/.git/config'],
    ['a/.GIT/hooks', 'mkdir -p /kratix/output/a/.GIT; echo x > /kratix/output/a/.GIT/hooks'],
    ['GIT~1/x', 'mkdir /kratix/output/GIT~1; echo x > /kratix/output/GIT~1/x'],
    ['a\\b.yaml', "echo x > '/kratix/output/a\\b.yaml'"],
  ])('refuses output the state store cannot hold (%s), naming the file', async (file, script) => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('reserved', [sh('writer', `echo fine > /kratix/output/ok.yaml; ${script}`)]);
    const err = await runFailure(runner, await request(p, await mongoRequest('4')));
    expect(err.pipeline).toBe('reserved');
    const segment = file.split('/').find((s) => /^\.git$|^git~1$/i.test(s));
    expect(err.reason).toBe(
      segment
        ? `output/${file}: contains "${segment}", which Git reserves, so no state store can hold it`
        : `output/${file}: contains "\\", so no state store can hold it`,
    );
  });

  it('refuses an output file whose name is not UTF-8, naming it', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('bytes', [sh('writer', `echo x > "/kratix/output/$(printf 'caf\\351')"`)]);
    const err = await runFailure(runner, await request(p, await mongoRequest('4')));
    expect(err.reason).toBe(
      'output/caf\uFFFD: the name is not valid UTF-8, so no state store can hold it',
    );
  });
});

describe('LocalPipelineRunner contract', () => {
  it('gives a command container the Kratix env, its own env, and little else', async () => {
    process.env.PROMISEFLOW_TEST_LEAK = 'should-not-leak';
    try {
      const runner = new LocalPipelineRunner({ imageTable });
      const p = pipeline('env-check', [
        sh('dump', 'env | sort > /kratix/output/env.txt; pwd > /kratix/output/pwd.txt', {
          env: [
            { name: 'GREETING', value: 'hello' },
            { name: 'KRATIX_PROMISE_NAME', value: 'overridden?' },
          ],
        }),
      ]);
      const object = await mongoRequest('4');
      const result = await runner.run(await request(p, object, { action: 'delete' }));
      const env = Object.fromEntries(
        (await readFile(path.join(result.outputDir, 'env.txt'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(env).toMatchObject({
        GREETING: 'hello',
        KRATIX_WORKFLOW_ACTION: 'delete',
        KRATIX_WORKFLOW_TYPE: 'resource',
        KRATIX_PROMISE_NAME: 'mongodb',
        KRATIX_PIPELINE_NAME: 'env-check',
        KRATIX_OBJECT_KIND: 'MongoDB',
        KRATIX_OBJECT_GROUP: 'promise.kratix.io',
        KRATIX_OBJECT_VERSION: 'v1alpha1',
        KRATIX_OBJECT_NAME: 'mongo-v4',
        KRATIX_OBJECT_NAMESPACE: 'default',
      });
      expect(env.PATH).toBe(process.env.PATH);
      expect(env.PROMISEFLOW_TEST_LEAK).toBeUndefined();
      const pwd = (await readFile(path.join(result.outputDir, 'pwd.txt'), 'utf8')).trim();
      expect(pwd.startsWith(path.resolve(result.outputDir, '..'))).toBe(false);
    } finally {
      delete process.env.PROMISEFLOW_TEST_LEAK;
    }
  });

  it('sets an empty namespace and core group for cluster-scoped objects', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('promise-configure', [
      sh(
        'dump',
        'printf "%s|%s|%s" "$KRATIX_OBJECT_NAMESPACE" "$KRATIX_OBJECT_GROUP" "$KRATIX_OBJECT_VERSION" > /kratix/output/e',
      ),
    ]);
    const object: KratixObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } };
    const result = await runner.run(await request(p, object, { type: 'promise' }));
    expect(await readFile(path.join(result.outputDir, 'e'), 'utf8')).toBe('||v1');
  });

  it('shares input/output/metadata between containers and writes the object as YAML', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('two-steps', [
      sh(
        'first',
        'cp /kratix/input/object.yaml /kratix/output/copy.yaml; echo "a: 1" > /kratix/metadata/status.yaml',
      ),
      sh(
        'second',
        'test -f /kratix/output/copy.yaml && echo "- matchLabels: {env: dev}" > /kratix/metadata/destination-selectors.yaml',
      ),
    ]);
    const object = await mongoRequest('6');
    const result = await runner.run(await request(p, object));
    expect(YAML.parse(await readFile(path.join(result.outputDir, 'copy.yaml'), 'utf8'))).toEqual(
      object,
    );
    expect(result.status).toEqual({ a: 1 });
    expect(result.destinationSelectors).toEqual([{ matchLabels: { env: 'dev' } }]);
    expect(result.containers.map((c) => c.name)).toEqual(['first', 'second']);
  });

  it('stops at a failing container and names pipeline and container', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('failing', [
      sh('ok', 'echo one > /kratix/output/one'),
      sh('boom', 'echo "about to fail" >&2; exit 3'),
      sh('never', 'echo three > /kratix/output/three'),
    ]);
    const req = await request(p, await mongoRequest('4'));
    const err = await runFailure(runner, req);
    expect(err.pipeline).toBe('failing');
    expect(err.container).toBe('boom');
    expect(err.reason).toBe('exited with code 3');
    expect(err.logTail).toContain('about to fail');
    // The message ends with the container's last output lines: the pipeline's own error.
    expect(err.message).toBe(
      'pipeline "failing" container "boom" failed: exited with code 3: about to fail',
    );
    expect(await readdir(path.join(req.workDir, 'output'))).toEqual(['one']);
  });

  it('refuses an image that is not in the image table, naming the table file', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('unknown', [{ name: 'c', image: `${MONGO_IMAGE}:v9.9.9` }]);
    const err = await runFailure(runner, await request(p, await mongoRequest('4')));
    expect(err.reason).toContain(`image "${MONGO_IMAGE}:v9.9.9" is not in the image table`);
    expect(err.reason).toContain(path.join(EXAMPLES, 'images.yaml'));
  });

  it.each([
    [
      'a relative symlink out of output',
      'ln -s ../input/object.yaml /kratix/output/leak.yaml',
      /points outside/,
    ],
    [
      'an absolute symlink',
      'mkdir /kratix/output/d; ln -s /etc/hostname /kratix/output/d/h',
      /absolute symlink/,
    ],
    ['a fifo', 'mkfifo /kratix/output/pipe', /not a regular file or directory \(fifo\)/],
  ])('refuses %s in output', async (_what, script, reason) => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('escape', [sh('sneaky', script)]);
    const err = await runFailure(runner, await request(p, await mongoRequest('4')));
    expect(err.pipeline).toBe('escape');
    expect(err.reason).toMatch(reason);
  });

  it('accepts a relative symlink to a file inside output', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('links', [
      sh(
        'link',
        'mkdir /kratix/output/sub; echo x > /kratix/output/a; ln -s ../a /kratix/output/sub/b',
      ),
    ]);
    const result = await runner.run(await request(p, await mongoRequest('4')));
    expect(await readFile(path.join(result.outputDir, 'sub', 'b'), 'utf8')).toBe('x\n');
  });

  it('refuses invalid metadata YAML, naming the file', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const p = pipeline('bad-meta', [
      sh('m', 'printf "a: [unclosed\\n" > /kratix/metadata/status.yaml'),
    ]);
    const err = await runFailure(runner, await request(p, await mongoRequest('4')));
    expect(err.reason).toMatch(/^metadata\/status\.yaml is not valid YAML/);

    const q = pipeline('bad-selectors', [
      sh('m', 'echo "matchLabels: {a: b}" > /kratix/metadata/destination-selectors.yaml'),
    ]);
    const err2 = await runFailure(runner, await request(q, await mongoRequest('4')));
    expect(err2.reason).toMatch(/destination-selectors\.yaml must be a YAML list/);
  });

  it('times out and kills the whole process group', async () => {
    const runner = new LocalPipelineRunner({ imageTable, timeoutMs: 500 });
    // The container has its own PID namespace, so the background sleep is found on the host
    // by its unique argument rather than by the PID the container sees.
    const marker = `30.${process.pid}${Date.now() % 100000}`;
    const p = pipeline('slow', [
      sh('sleeper', `sleep ${marker} & kill -0 $! && echo started; sleep 30`),
    ]);
    const req = await request(p, await mongoRequest('4'));
    const started = Date.now();
    const err = await runFailure(runner, req);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.container).toBe('sleeper');
    expect(err.reason).toBe('timed out after 500ms');
    expect(err.logTail).toContain('started');
    // Gone, or a zombie waiting for a PID 1 that may not reap promptly in containers.
    const alive = (await hostProcessStates(['sleep', marker])).filter((state) => state !== 'Z');
    expect(alive).toEqual([]);
  });

  it('ends a container when its main process exits, like a Pod, even if children linger', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    // The background sleep keeps stdout open; waiting for it would hang for 30 s.
    const p = pipeline('lingering', [sh('main', 'sleep 30 & echo done')]);
    const started = Date.now();
    const result = await runner.run(await request(p, await mongoRequest('4')));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.containers[0]?.logTail).toBe('done');
  });

  it('keeps concurrent runs apart: each sees only its own /kratix', async () => {
    const runner = new LocalPipelineRunner({ imageTable });
    const script =
      'echo "$KRATIX_OBJECT_NAME" > "/kratix/output/$KRATIX_OBJECT_NAME"; sleep 1; ' +
      'ls /kratix/output > /kratix/metadata/seen.txt';
    const p = pipeline('isolation', [sh('writer', script)]);
    const reqs = await Promise.all(
      ['4', '5', '6'].map(async (m) => request(p, await mongoRequest(m))),
    );
    const results = await Promise.all(reqs.map((r) => runner.run(r)));
    for (const [i, major] of ['4', '5', '6'].entries()) {
      const seen = await readFile(path.join(reqs[i]!.workDir, 'metadata', 'seen.txt'), 'utf8');
      expect(seen.trim()).toBe(`mongo-v${major}`);
      expect(await readdir(results[i]!.outputDir)).toEqual([`mongo-v${major}`]);
    }
    // The host's mount point is never written to.
    expect(await readdir('/kratix')).toEqual([]);
  });
});
