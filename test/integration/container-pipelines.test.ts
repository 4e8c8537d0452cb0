import * as fs from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { PROJECT_ROOT } from '../../src/config';
import { createLogger } from '../../src/logging';
import type { Container, KratixObject, Pipeline } from '../../src/model/types';
import { ContainerPipelineRunner } from '../../src/pipelines/container';
import { resolvePipelineRefs } from '../../src/pipelines/env';
import { loadImageTable } from '../../src/pipelines/image-table';
import { PipelineFailedError, type PipelineRunRequest } from '../../src/pipelines/runner';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import { createPromiseflowWorker, type WorkerHandle } from '../../src/worker/worker';
import { startTestPlatform, type TestPlatform } from '../support/platform';

const EXAMPLES = path.join(PROJECT_ROOT, 'examples');
const SHELL = 'localhost/promiseflow-examples/shell:v1';
const example = (f: string) => path.join(EXAMPLES, 'mongodb', f);

let scratch: string;
let runner: ContainerPipelineRunner;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'promiseflow-containers-'));
  runner = new ContainerPipelineRunner({
    imageTable: await loadImageTable(path.join(EXAMPLES, 'images.yaml')),
  });
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function pipeline(containers: Container[], extra: Partial<Pipeline['spec']> = {}): Pipeline {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name: 'instance-configure' },
    spec: { containers, ...extra },
  };
}

const sh = (name: string, script: string, extra: Partial<Container> = {}): Container => ({
  name,
  image: SHELL,
  command: ['sh', '-c', script],
  ...extra,
});

async function request(p: Pipeline, object?: KratixObject): Promise<PipelineRunRequest> {
  return {
    pipeline: p,
    object:
      object ?? (YAML.parse(await readFile(example('mongo-v4.yaml'), 'utf8')) as KratixObject),
    action: 'configure',
    type: 'resource',
    promiseName: 'mongodb',
    workDir: await mkdtemp(path.join(scratch, 'run-')),
  };
}

async function failure(req: PipelineRunRequest): Promise<PipelineFailedError> {
  const err = await runner.run(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PipelineFailedError);
  return err as PipelineFailedError;
}

describe('the container pipeline runner (podman)', () => {
  it('runs the marketplace image name through its local image, with the Kratix contract', async () => {
    const req = await request(
      pipeline([
        {
          name: 'create-instance',
          image: 'ghcr.io/syntasso/kratix-marketplace/mongodb-configure-pipeline:v0.2.0',
        },
        sh(
          'contract',
          'printf "%s %s %s %s\\n" "$KRATIX_WORKFLOW_TYPE" "$KRATIX_OBJECT_KIND" "$KRATIX_OBJECT_NAME" "$KRATIX_PIPELINE_NAME" > /kratix/output/env.txt',
        ),
      ]),
    );
    const result = await runner.run(req);
    expect(await readFile(path.join(result.outputDir, 'mongodb-instance.yaml'), 'utf8')).toContain(
      'version: "4.4.24"',
    );
    expect(await readFile(path.join(result.outputDir, 'env.txt'), 'utf8')).toBe(
      'resource MongoDB mongo-v4 instance-configure\n',
    );
    expect(result.status).toEqual({ message: 'mongodb version: 4.4.24', version: '4.4.24' });
    expect(result.containers.map((c) => c.name)).toEqual(['create-instance', 'contract']);
  });

  it('gives a container its image and its mounts only: the host file system stays out of sight', async () => {
    const marker = path.join(scratch, 'host-only-marker');
    await writeFile(marker, 'host secret');
    const req = await request(
      pipeline([
        sh(
          'look-around',
          [
            `test -e ${marker} && echo "sees ${marker}" >&2 && exit 1`,
            `test -e ${path.join(PROJECT_ROOT, 'package.json')} && echo "sees the project" >&2 && exit 1`,
            'test -e /usr/bin/node && echo "sees host binaries" >&2 && exit 1',
            'ls / | sort | tr "\\n" " " > /kratix/output/root.txt',
            'echo written > /etc/escaped',
            'cat /kratix/input/object.yaml > /kratix/output/input-copy.yaml',
            // Kratix mounts /kratix/input read-only into pipeline containers.
            'if echo x > /kratix/input/object.yaml; then echo "input writable" >&2; exit 1; fi',
          ].join('\n'),
        ),
      ]),
    );
    const result = await runner.run(req);
    const root = (await readFile(path.join(result.outputDir, 'root.txt'), 'utf8')).split(' ');
    expect(root).not.toContain('work');
    expect(root).not.toContain('usr');
    expect(root).toContain('kratix');
    expect(fs.existsSync('/etc/escaped')).toBe(false);
    expect(await readFile(path.join(result.outputDir, 'input-copy.yaml'), 'utf8')).toContain(
      'name: mongo-v4',
    );
  });

  it('applies the local runner’s output checks to what a container leaves', async () => {
    const err = await failure(
      await request(pipeline([sh('escape', 'ln -s /etc/passwd /kratix/output/passwd')])),
    );
    expect(err.message).toContain(
      'output/passwd: absolute symlink (-> /etc/passwd) is not allowed',
    );
  });

  it('respects imagePullPolicy: Never refuses an image that is not on this machine', async () => {
    const err = await failure(
      await request(
        pipeline([
          sh('missing', 'true', { image: 'localhost/not-built:v9', imagePullPolicy: 'Never' }),
        ]),
      ),
    );
    expect(err.message).toContain(
      'image "localhost/not-built:v9" is not present on this machine and imagePullPolicy is Never',
    );
  });

  it('fails a container that exits non-zero, with its last lines', async () => {
    const err = await failure(await request(pipeline([sh('bad', 'echo broken >&2; exit 3')])));
    expect(err.reason).toBe('exited with code 3');
    expect(err.logTail).toContain('broken');
  });

  it('resolves env valueFrom and secret volumes from the platform objects, and shares emptyDir volumes', async () => {
    const p = pipeline(
      [
        sh(
          'write',
          'echo "$DB_PASSWORD $REGION" > /scratch/env; cat /creds/token > /scratch/token',
          {
            env: [
              { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
              {
                name: 'REGION',
                valueFrom: { configMapKeyRef: { name: 'settings', key: 'region' } },
              },
            ],
            volumeMounts: [
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'creds', mountPath: '/creds' },
            ],
          },
        ),
        sh('read', 'cp /scratch/env /scratch/token /kratix/output/', {
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        }),
      ],
      {
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'creds', secret: { secretName: 'db' } },
        ],
      },
    );
    const objects: KratixObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: 'default' },
        stringData: { password: 's3cret', token: 'tok' },
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'default' },
        data: { region: 'eu-west' },
      },
    ];
    const req = await request(p);
    const resolved = await resolvePipelineRefs(req, async (key) =>
      objects.find(
        (o) =>
          o.kind === key.kind &&
          o.metadata.name === key.name &&
          o.metadata.namespace === key.namespace,
      ),
    );
    expect(resolved?.namespace).toBe('default');
    const result = await runner.run({ ...req, resolved });
    expect(await readFile(path.join(result.outputDir, 'env'), 'utf8')).toBe('s3cret eu-west\n');
    expect(await readFile(path.join(result.outputDir, 'token'), 'utf8')).toBe('tok');

    const missing = await resolvePipelineRefs(req, async () => undefined).catch((e: unknown) => e);
    expect((missing as Error).message).toContain(
      'Secret "db" key "password" (env DB_PASSWORD) not found in namespace "default"',
    );
  });
});

describe('the MongoDB fleet upgrade with pipelines as real containers', () => {
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;
  let worker: WorkerHandle;
  let running: Promise<void>;
  const instancePath = (name: string) =>
    `worker-1/resources/default/mongodb/${name}/instance-configure/5058f/mongodb-instance.yaml`;

  beforeAll(async () => {
    platform = await startTestPlatform('fleet-containers', { inProcessWorker: false });
    // The runner is chosen by configuration, at the worker's edge.
    worker = await createPromiseflowWorker(
      { ...platform.config, pipelineRunner: 'container' },
      createLogger({ file: path.join(platform.dir, 'container-worker.log'), level: 'debug' }),
    );
    running = worker.run();
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(platformYaml, stateStore.platformYaml);
    const applied = await platform.cli(['apply', '-f', platformYaml, '--wait']);
    expect(applied.code, applied.stderr).toBe(0);
  });

  afterAll(async () => {
    await worker?.shutdown();
    await running;
    await platform?.stop();
    await stateStore?.stop();
  });

  it('upgrades 4.4.23 / 5.0.14 / 6.0.10 to 4.4.24 / 5.0.15 / 6.0.10', async () => {
    const install = await platform.cli(['apply', '-f', example('promise.yaml'), '--wait']);
    expect(install.code, install.stderr).toBe(0);
    for (const name of ['mongo-v4', 'mongo-v5', 'mongo-v6']) {
      const r = await platform.cli(['apply', '-f', example(`${name}.yaml`), '--wait']);
      expect(r.code, r.stderr + r.stdout).toBe(0);
    }
    expect(await stateStore.read(instancePath('mongo-v4'))).toContain('4.4.23');
    expect(await stateStore.read(instancePath('mongo-v5'))).toContain('5.0.14');

    const upgrade = await platform.cli(['apply', '-f', example('promise-v0.2.0.yaml'), '--wait']);
    expect(upgrade.code, upgrade.stderr + upgrade.stdout).toBe(0);
    expect(await stateStore.read(instancePath('mongo-v4'))).toContain('4.4.24');
    expect(await stateStore.read(instancePath('mongo-v5'))).toContain('5.0.15');
    expect(await stateStore.read(instancePath('mongo-v6'))).toContain('6.0.10');
    const after = await platform.cli(['get', 'mongodbs']);
    expect(after.stdout).toMatch(/mongo-v4\s+mongodb version: 4\.4\.24/);
    // The operator dependencies came from the Promise pipeline's container too.
    expect(
      await stateStore.read(
        'worker-1/dependencies/mongodb/promise-configure/5058f/mongodb-operator.yaml',
      ),
    ).toContain('mongodb-kubernetes-operator');
    // They ran in podman: the worker logged each container's output.
    expect(fs.readFileSync(path.join(platform.dir, 'container-worker.log'), 'utf8')).toContain(
      'MongoDB default/mongo-v4: majorVersion 4 -> 4.4.24',
    );
  });
});
