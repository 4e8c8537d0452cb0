import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors';
import { loadKratixFile } from '../../src/client/load-file';
import type { KratixObject, KratixPromise } from '../../src/model/types';
import { validateFiles } from '../../src/client/validate-files';
import {
  crdOf,
  validateObject,
  validatePromise,
  validateResourceRequest,
} from '../../src/model/validate';

const FIXTURES = join(__dirname, '..', 'fixtures', 'kratix-api');

async function everything(): Promise<{ promise: KratixPromise; skipped: string[] }> {
  const skipped: string[] = [];
  const [promise] = await loadKratixFile(join(FIXTURES, 'everything.yaml'), {
    onSkipped: (m) => skipped.push(m),
  });
  return { promise: promise as KratixPromise, skipped };
}

async function request(): Promise<KratixObject> {
  return (await loadKratixFile(join(FIXTURES, 'request.yaml')))[0]!;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidInputError');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- cases reach into arbitrary fields
function edited<T>(obj: T, change: (copy: any) => void): T {
  const copy = structuredClone(obj);
  change(copy);
  return copy;
}

describe('a Promise using the whole Kratix Promise and Pipeline API', () => {
  it('loads beside a Namespace, which is skipped with a warning naming it', async () => {
    const { promise, skipped } = await everything();
    expect(skipped).toEqual([
      `${join(FIXTURES, 'everything.yaml')}: Namespace "pipelines" (v1) skipped: a plain Kubernetes object, not one Promiseflow manages (apply it to a cluster with kubectl)`,
    ]);
    expect(validatePromise(promise, 'everything.yaml').metadata.name).toBe('database');
    expect(crdOf(promise)?.kind).toBe('Database');
  });

  it('refuses a file that holds only plain Kubernetes objects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-validate-'));
    const file = join(dir, 'ns.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n');
    await expect(loadKratixFile(file, { onSkipped: () => {} })).rejects.toThrow(
      `${file}: expected at least one Kratix object, Secret or ConfigMap, got only plain Kubernetes objects (Namespace "a")`,
    );
  });

  it('reads spec.api {} and null as no API, as Kratix does', async () => {
    const { promise } = await everything();
    for (const api of [{}, null]) {
      const noApi = edited(promise, (p) => (p.spec.api = api));
      expect(validatePromise(noApi)).toBeTruthy();
      expect(crdOf(noApi)).toBeUndefined();
    }
  });

  it('accepts workflows.config as {} and null, and refuses a reconciliationInterval under a minute', async () => {
    const { promise } = await everything();
    for (const config of [{}, null]) {
      expect(
        validatePromise(edited(promise, (p) => (p.spec.workflows.config = config))),
      ).toBeTruthy();
    }
    const fast = edited(promise, (p) => (p.spec.workflows.config.reconciliationInterval = '30s'));
    expect(messageOf(() => validatePromise(fast, 'p.yaml'))).toBe(
      'p.yaml: Promise "database": spec.workflows.config.reconciliationInterval: expected a duration of at least 1m0s, got 30s',
    );
    const typo = edited(promise, (p) => (p.spec.workflows.config.reconcileInterval = '1h'));
    expect(messageOf(() => validatePromise(typo, 'p.yaml'))).toBe(
      'p.yaml: Promise "database": spec.workflows.config.reconcileInterval: expected one of pipelineNamespace, reconciliationInterval, got reconcileInterval',
    );
  });

  it('refuses a Cluster-scoped API, as Kratix’s webhook does', async () => {
    const { promise } = await everything();
    const cluster = edited(promise, (p) => (p.spec.api.spec.scope = 'Cluster'));
    expect(messageOf(() => validatePromise(cluster, 'p.yaml'))).toBe(
      'p.yaml: Promise "database": spec.api.spec.scope: expected Namespaced (a Promise API needs to be namespace scoped, as in Kratix), got Cluster',
    );
  });

  it('refuses a pipeline whose id "<promise>-<type>-<action>-<name>" passes 60 characters', async () => {
    const { promise } = await everything();
    const long = edited(promise, (p) => {
      p.spec.workflows.resource.configure[0].metadata.name = 'a-pipeline-name-that-is-long-enough';
    });
    expect(messageOf(() => validatePromise(long, 'p.yaml'))).toBe(
      'p.yaml: Promise "database": spec.workflows.resource.configure[0].metadata.name: expected a name for which "database-resource-configure-a-pipeline-name-that-is-long-enough" has at most 60 characters (Kratix names the pipeline\'s ServiceAccount "<promise>-<type>-<action>-<pipeline>"), got a-pipeline-name-that-is-long-enough (63 characters in total)',
    );
  });

  it('refuses unknown Pipeline fields, as Kratix decodes Pipelines strictly', async () => {
    const { promise } = await everything();
    const typo = edited(promise, (p) => {
      p.spec.workflows.resource.configure[0].spec.containers[0].imagePullPolicey = 'Always';
    });
    expect(messageOf(() => validatePromise(typo, 'p.yaml'))).toContain(
      'spec.workflows.resource.configure[0].spec.containers[0].imagePullPolicey: expected one of the fields name, image, args, command, env, envFrom, volumeMounts, imagePullPolicy, securityContext, resources, got unknown field "imagePullPolicey"',
    );
  });

  it('refuses a volume mount of an undeclared volume and a bad pull policy', async () => {
    const { promise } = await everything();
    const mount = edited(promise, (p) => {
      p.spec.workflows.resource.configure[0].spec.containers[0].volumeMounts[0].name = 'cache';
    });
    expect(messageOf(() => validatePromise(mount))).toContain(
      'volumeMounts[0].name: expected a volume of the Pipeline (one of shared-input, shared-output, shared-metadata, promise-scheduling, scratch, credentials), got cache',
    );
    const policy = edited(promise, (p) => {
      p.spec.workflows.resource.configure[0].spec.containers[0].imagePullPolicy = 'Sometimes';
    });
    expect(messageOf(() => validatePromise(policy))).toContain(
      'imagePullPolicy: expected one of Always, IfNotPresent, Never, got Sometimes',
    );
  });

  it('refuses a CEL rule it cannot evaluate, naming it, rather than ignoring it', async () => {
    const { promise } = await everything();
    const rules = (p: KratixPromise) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (p.spec!.api as any).spec.versions[0].schema.openAPIV3Schema.properties.spec[
        'x-kubernetes-validations'
      ];
    const kubeOnly = edited(promise, (p) => (rules(p)[0].rule = 'isSorted(self.tags)'));
    expect(messageOf(() => validatePromise(kubeOnly, 'p.yaml'))).toMatch(
      /^p\.yaml: Promise "database": spec\.api\.spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\.spec\.x-kubernetes-validations\[0\]\.rule: expected a CEL expression Promiseflow can evaluate, got "isSorted\(self\.tags\)" \(not supported: .*isSorted.*\)$/,
    );
    const transition = edited(
      promise,
      (p) => (rules(p)[0].rule = 'self.replicas >= oldSelf.replicas'),
    );
    expect(messageOf(() => validatePromise(transition))).toContain(
      '(not supported: transition rules (oldSelf) are not supported)',
    );
  });
});

describe('a request for that Promise, as the API server would take it', () => {
  it('is pruned of undeclared fields (with a warning), defaulted, and passes its CEL rules', async () => {
    const { promise } = await everything();
    const warnings: string[] = [];
    const valid = validateResourceRequest(await request(), promise, 'request.yaml', {
      onWarning: (m) => warnings.push(m),
    });
    expect(valid.spec).toEqual({
      name: 'db-orders',
      replicas: 2,
      maxReplicas: 3,
      labels: { kept: 'yes' },
    });
    expect(warnings).toEqual([
      'request.yaml: Database "orders": spec.colour: unknown field, pruned (the Database schema does not declare it)',
    ]);
  });

  it('is refused when a CEL rule fails, with the rule’s message', async () => {
    const { promise } = await everything();
    const tooMany = edited(await request(), (r) => (r.spec.replicas = 5));
    expect(messageOf(() => validateResourceRequest(tooMany, promise, 'r.yaml'))).toBe(
      'r.yaml: Database "orders": spec: expected replicas must not exceed maxReplicas, got object',
    );
    const badName = edited(await request(), (r) => (r.spec.name = 'orders'));
    expect(messageOf(() => validateResourceRequest(badName, promise, 'r.yaml'))).toBe(
      'r.yaml: Database "orders": spec: expected name must start with db-, got orders, got object',
    );
  });
});

describe('ConfigMaps and offline validation of files', () => {
  it('accepts a v1 ConfigMap and refuses binaryData that is not base64', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'pipelines' },
      data: { region: 'eu' },
    };
    expect(validateObject(cm)).toBe(cm);
    expect(messageOf(() => validateObject({ ...cm, binaryData: { b: 'not base64!' } }))).toBe(
      'ConfigMap "settings": binaryData.b: expected base64 text, got text that is not base64',
    );
  });

  it('checks every file, requests against the Promises beside them, and reports each refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-validate-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: example.promiseflow.io/v1\nkind: Database\nmetadata:\n  name: x\nspec:\n  name: db-x\n  replicas: "two"\n',
    );
    const reports = await validateFiles([
      join(FIXTURES, 'everything.yaml'),
      join(FIXTURES, 'request.yaml'),
      bad,
    ]);
    expect(reports.map((r) => r.valid)).toEqual([
      ['Promise "database"'],
      ['Database "orders"'],
      [],
    ]);
    expect(reports[0]!.warnings[0]).toContain('Namespace "pipelines" (v1) skipped');
    expect(reports[1]!.warnings[0]).toContain('spec.colour: unknown field, pruned');
    expect(reports[2]!.error).toBe(
      `${bad}: Database "x": spec.replicas: expected integer, got string`,
    );
  });
});
