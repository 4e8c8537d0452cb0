import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/model/errors';
import { parseKratixYaml } from '../../src/model/load';
import type { KratixObject, KratixPromise } from '../../src/model/types';
import {
  crdOf,
  promiseVersion,
  toDnsLabel,
  validateBucketStateStore,
  validateDestination,
  validateGitStateStore,
  validateLabelPatch,
  validateObject,
  validatePipelineSelectors,
  validatePromise,
  validateResourceRequest,
  validateSecret,
} from '../../src/model/validate';

const load = (name: string): KratixObject[] =>
  parseKratixYaml(readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8'), name);
const first = (name: string): KratixObject => {
  const [obj] = load(name);
  if (!obj) throw new Error(`${name} is empty`);
  return obj;
};

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidInputError');
}

const mongodb = (): KratixPromise => first('mongodb/promise.yaml') as KratixPromise;
const [fullPromise, fullRequest] = load('mongodb/promise-full.yaml') as [
  KratixPromise,
  KratixObject,
];
/** A copy of `obj` with `change` applied, for one-field-wrong cases. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- cases reach into arbitrary fields
function edited<T>(obj: T, change: (copy: any) => void): T {
  const copy = structuredClone(obj);
  change(copy);
  return copy;
}

describe('validatePromise', () => {
  it('accepts the MongoDB Promise modelled on the marketplace one', () => {
    const promise = validatePromise(mongodb(), 'promise.yaml');
    expect(promise.spec?.workflows?.resource?.configure?.[0]?.spec?.containers[0]?.image).toBe(
      'ghcr.io/syntasso/kratix-marketplace/mongodb-configure-pipeline:v0.1.0',
    );
  });

  it('accepts a Promise whose API is a large CRD with x-kubernetes-* keys and nullable fields', () => {
    expect(validatePromise(fullPromise, 'promise-full.yaml').metadata.name).toBe('mongodb-full');
  });

  it('accepts a Promise with no API, workflows or dependencies', () => {
    const bare = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'Promise',
      metadata: { name: 'bare' },
    };
    expect(validatePromise(bare)).toEqual(bare);
  });

  it('refuses a spec.api that is not a CustomResourceDefinition', () => {
    expect(
      messageOf(() => validatePromise(first('bad/promise-api-configmap.yaml'), 'promise.yaml')),
    ).toBe(
      'promise.yaml: Promise "mongodb": spec.api: expected a CustomResourceDefinition, got ConfigMap',
    );
  });

  it('refuses a Promise of another apiVersion', () => {
    const promise = edited(mongodb(), (p) => (p.apiVersion = 'platform.kratix.io/v1'));
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": apiVersion: expected platform.kratix.io/v1alpha1, got platform.kratix.io/v1',
    );
  });

  it('refuses a name that is not a DNS-1123 subdomain', () => {
    const promise = edited(mongodb(), (p) => (p.metadata.name = 'Mongo_DB'));
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "Mongo_DB": metadata.name: expected a DNS-1123 subdomain (at most 253 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit), got Mongo_DB',
    );
  });

  it('refuses a label value that is not a string', () => {
    const promise = edited(
      mongodb(),
      (p) => (p.metadata.labels['kratix.io/promise-version'] = 1.1),
    );
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": metadata.labels["kratix.io/promise-version"]: expected string, got number',
    );
  });

  it('refuses a CRD without served versions, names or schema', () => {
    const noServed = edited(mongodb(), (p) => (p.spec.api.spec.versions[0].served = false));
    expect(messageOf(() => validatePromise(noServed, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.api.spec.versions: expected at least one version with served: true, got none',
    );
    const noPlural = edited(mongodb(), (p) => delete p.spec.api.spec.names.plural);
    expect(messageOf(() => validatePromise(noPlural, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.api.spec.names.plural: expected string, got nothing (required property missing)',
    );
    const noSchema = edited(
      mongodb(),
      (p) => delete p.spec.api.spec.versions[0].schema.openAPIV3Schema,
    );
    expect(messageOf(() => validatePromise(noSchema, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.api.spec.versions[0].schema.openAPIV3Schema: expected object, got nothing (required property missing)',
    );
  });

  it('refuses a CRD whose name is not <plural>.<group>', () => {
    const promise = edited(
      mongodb(),
      (p) => (p.spec.api.metadata.name = 'mongodb.promise.kratix.io'),
    );
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.api.metadata.name: expected mongodbs.promise.kratix.io, got mongodb.promise.kratix.io',
    );
  });

  it('refuses a schema typo naming its YAML path, the bad value and the allowed values', () => {
    const promise = edited(mongodb(), (p) => {
      p.spec.api.spec.versions[0].schema.openAPIV3Schema.properties.spec.type = 'dictionary';
    });
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.api.spec.versions[0].schema.openAPIV3Schema.properties.spec.type: expected one of array, boolean, integer, number, object, string, got "dictionary"',
    );
  });

  it('refuses a pipeline container without an image', () => {
    const promise = edited(
      mongodb(),
      (p) => delete p.spec.workflows.resource.configure[0].spec.containers[0].image,
    );
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.workflows.resource.configure[0].spec.containers[0].image: expected string, got nothing (required property missing)',
    );
  });

  it('refuses a command that is not a list of strings', () => {
    const promise = edited(
      mongodb(),
      (p) => (p.spec.workflows.resource.configure[0].spec.containers[0].args = ['--x', 3]),
    );
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.workflows.resource.configure[0].spec.containers[0].args[1]: expected string, got number',
    );
  });

  it('refuses a workflow that is not a Pipeline', () => {
    const promise = edited(mongodb(), (p) => (p.spec.workflows.resource.configure[0].kind = 'Job'));
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.workflows.resource.configure[0].kind: expected Pipeline, got Job',
    );
  });

  it('refuses two pipelines with one name in the same workflow', () => {
    const promise = edited(mongodb(), (p) => {
      const list = p.spec.workflows.resource.configure;
      list.push(structuredClone(list[0]));
    });
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.workflows.resource.configure[1].metadata.name: expected a name unique in spec.workflows.resource.configure, got instance-configure',
    );
  });

  it('refuses a workflow action other than configure and delete', () => {
    const promise = edited(mongodb(), (p) => (p.spec.workflows.resource = { configur: [] }));
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.workflows.resource.configur: expected one of configure, delete, got configur',
    );
  });

  it('refuses a dependency without metadata.name', () => {
    const promise = edited(mongodb(), (p) => delete p.spec.dependencies[1].metadata.name);
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.dependencies[1].metadata.name: expected string, got nothing (required property missing)',
    );
  });

  it('refuses destinationSelectors whose matchLabels are not strings', () => {
    const promise = edited(
      mongodb(),
      (p) => (p.spec.destinationSelectors = [{ matchLabels: { gpu: true } }]),
    );
    expect(messageOf(() => validatePromise(promise, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.destinationSelectors[0].matchLabels.gpu: expected string, got boolean',
    );
  });
});

describe('crdOf', () => {
  it('describes the API of a Promise or of a bare Promise spec', () => {
    const expected = {
      group: 'promise.kratix.io',
      kind: 'MongoDB',
      plural: 'mongodbs',
      singular: 'mongodb',
      versions: ['v1alpha1'],
      storageVersion: 'v1alpha1',
    };
    expect(crdOf(mongodb())).toEqual(expected);
    expect(crdOf(mongodb().spec ?? {})).toEqual(expected);
  });

  it('is undefined for a Promise without spec.api', () => {
    expect(
      crdOf({
        apiVersion: 'platform.kratix.io/v1alpha1',
        kind: 'Promise',
        metadata: { name: 'x' },
      }),
    ).toBeUndefined();
  });
});

describe('validateResourceRequest', () => {
  it('accepts the MongoDB request and fills in schema defaults on a copy', () => {
    const request = edited(first('mongodb/resource-request.yaml'), (r) => (r.spec = {}));
    const valid = validateResourceRequest(request, mongodb(), 'request.yaml');
    expect(valid.spec).toEqual({ majorVersion: '4' });
    expect(request.spec).toEqual({});
  });

  it('refuses a number where the API wants a string, naming the field', () => {
    const request = first('bad/mongodb-request-number-major-version.yaml');
    expect(messageOf(() => validateResourceRequest(request, mongodb(), 'request.yaml'))).toBe(
      'request.yaml: MongoDB "orders-db": spec.majorVersion: expected string, got number',
    );
  });

  it('refuses a request missing a required field, with its dotted path', () => {
    const request = edited(fullRequest, (r) => delete r.spec.users[0].roles[0].db);
    expect(messageOf(() => validateResourceRequest(request, fullPromise, 'request.yaml'))).toBe(
      'request.yaml: MongoDBCommunity "example-mongodb": spec.users[0].roles[0].db: expected string, got nothing (required property missing)',
    );
  });

  it('collects every schema error and lists the first three', () => {
    const request = edited(fullRequest, (r) => {
      delete r.spec.security;
      r.spec.members = 0;
      r.spec.type = 'Sharded';
      r.spec.prometheus = {
        username: 'u',
        passwordSecretRef: { name: 'p' },
        metricsPath: 'metrics',
      };
    });
    expect(messageOf(() => validateResourceRequest(request, fullPromise, 'request.yaml'))).toBe(
      'request.yaml: MongoDBCommunity "example-mongodb": expected a valid MongoDBCommunity, got 4 errors: ' +
        'spec.security: expected object, got nothing (required property missing); ' +
        'spec.members: expected a number >= 1, got 0; ' +
        'spec.type: expected one of "ReplicaSet", got "Sharded"; and 1 more',
    );
  });

  it('accepts the marketplace-shaped request: nullable, preserved unknown fields, int-or-string, Go durations', () => {
    const valid = validateResourceRequest(fullRequest, fullPromise, 'promise-full.yaml');
    expect(valid.spec?.users).toEqual([expect.objectContaining({ db: 'admin' })]);
    expect(
      validateResourceRequest(
        edited(fullRequest, (r) => (r.spec.port = 'mongo')),
        fullPromise,
      ),
    ).toBeTruthy();
  });

  it('refuses a value that is neither integer nor string for an int-or-string field', () => {
    const request = edited(fullRequest, (r) => (r.spec.port = true));
    expect(messageOf(() => validateResourceRequest(request, fullPromise, 'request.yaml'))).toBe(
      'request.yaml: MongoDBCommunity "example-mongodb": spec.port: expected integer or string, got boolean',
    );
  });

  it('ignores status, which the API server does not take from a request', () => {
    const request = edited(fullRequest, (r) => (r.status = { phase: 42 }));
    expect(validateResourceRequest(request, fullPromise).status).toEqual({ phase: 42 });
  });

  it('refuses a version the CRD does not serve, and a kind it does not define', () => {
    const v2 = edited(
      first('mongodb/resource-request.yaml'),
      (r) => (r.apiVersion = 'promise.kratix.io/v2'),
    );
    expect(messageOf(() => validateResourceRequest(v2, mongodb(), 'r.yaml'))).toBe(
      'r.yaml: MongoDB "orders-db": apiVersion: expected one of promise.kratix.io/v1alpha1, got promise.kratix.io/v2',
    );
    const redis = edited(first('mongodb/resource-request.yaml'), (r) => (r.kind = 'Redis'));
    expect(messageOf(() => validateResourceRequest(redis, mongodb(), 'r.yaml'))).toBe(
      'r.yaml: Redis "orders-db": kind: expected MongoDB, got Redis',
    );
  });
});

describe('validateDestination', () => {
  it('accepts Destinations backed by Git and by a bucket', () => {
    const destinations = [
      ...load('platform/dev-cluster.yaml'),
      ...load('platform/prod-bucket.yaml'),
    ].filter((o) => o.kind === 'Destination');
    expect(destinations.map((d) => validateDestination(d).metadata.name)).toEqual([
      'worker-1',
      'prod-eu',
    ]);
  });

  it('refuses a Destination without spec.path', () => {
    const destination = first('bad/destination-missing-path.yaml');
    expect(messageOf(() => validateDestination(destination, 'destination.yaml'))).toBe(
      'destination.yaml: Destination "worker-2": spec.path: expected string, got nothing (required property missing)',
    );
  });

  it('refuses an unknown filepath mode and a state store of another kind', () => {
    const base = load('platform/dev-cluster.yaml')[2];
    const mode = edited(base, (d) => (d.spec.filepath.mode = 'flat'));
    expect(messageOf(() => validateDestination(mode, 'd.yaml'))).toBe(
      'd.yaml: Destination "worker-1": spec.filepath.mode: expected one of nestedByMetadata, aggregatedYAML, none, got flat',
    );
    const store = edited(base, (d) => (d.spec.stateStoreRef.kind = 'ConfigMap'));
    expect(messageOf(() => validateDestination(store, 'd.yaml'))).toBe(
      'd.yaml: Destination "worker-1": spec.stateStoreRef.kind: expected one of GitStateStore, BucketStateStore, got ConfigMap',
    );
  });

  it('refuses strictMatchLabels that is not a boolean', () => {
    const destination = edited(
      load('platform/dev-cluster.yaml')[2],
      (d) => (d.spec.strictMatchLabels = 'yes'),
    );
    expect(messageOf(() => validateDestination(destination, 'd.yaml'))).toBe(
      'd.yaml: Destination "worker-1": spec.strictMatchLabels: expected boolean, got string',
    );
  });
});

describe('state stores and Secrets', () => {
  const [secret, git] = load('platform/dev-cluster.yaml') as [KratixObject, KratixObject];
  const [bucketSecret, bucket] = load('platform/prod-bucket.yaml') as [KratixObject, KratixObject];

  it('accepts the fixtures', () => {
    expect(validateGitStateStore(git).spec?.url).toBe(
      'https://172.18.0.2:31333/gitea_admin/kratix',
    );
    expect(validateBucketStateStore(bucket).spec?.bucketName).toBe('kratix');
    expect(validateSecret(secret).stringData?.username).toBe('gitea_admin');
    expect(validateSecret(bucketSecret).data?.accessKeyID).toBe('bWluaW9hZG1pbg==');
  });

  it('refuses a GitStateStore without url or with an unknown authMethod', () => {
    expect(
      messageOf(() =>
        validateGitStateStore(
          edited(git, (g) => delete g.spec.url),
          'g.yaml',
        ),
      ),
    ).toBe(
      'g.yaml: GitStateStore "default": spec.url: expected string, got nothing (required property missing)',
    );
    expect(
      messageOf(() =>
        validateGitStateStore(
          edited(git, (g) => (g.spec.authMethod = 'token')),
          'g.yaml',
        ),
      ),
    ).toBe(
      'g.yaml: GitStateStore "default": spec.authMethod: expected one of basicAuth, ssh, got token',
    );
  });

  it('refuses a BucketStateStore without endpoint or with a non-boolean insecure', () => {
    expect(
      messageOf(() =>
        validateBucketStateStore(
          edited(bucket, (b) => delete b.spec.endpoint),
          'b.yaml',
        ),
      ),
    ).toBe(
      'b.yaml: BucketStateStore "minio-store": spec.endpoint: expected string, got nothing (required property missing)',
    );
    expect(
      messageOf(() =>
        validateBucketStateStore(
          edited(bucket, (b) => (b.spec.insecure = 'true')),
          'b.yaml',
        ),
      ),
    ).toBe('b.yaml: BucketStateStore "minio-store": spec.insecure: expected boolean, got string');
  });

  it('refuses Secret data that is not base64', () => {
    const bad = edited(bucketSecret, (s) => (s.data.secretAccessKey = 'minioadmin!'));
    expect(messageOf(() => validateSecret(bad, 's.yaml'))).toBe(
      's.yaml: Secret "minio-credentials": data.secretAccessKey: expected base64 text, got text that is not base64',
    );
  });
});

describe('validatePipelineSelectors', () => {
  it('reads the selectors a workflow writes, tidying directories', () => {
    const value = [
      { matchLabels: { environment: 'dev' } },
      { directory: './platform/', matchLabels: { cluster: 'platform' } },
    ];
    expect(validatePipelineSelectors(value, 'destination-selectors.yaml')).toEqual([
      { matchLabels: { environment: 'dev' } },
      { directory: 'platform', matchLabels: { cluster: 'platform' } },
    ]);
  });

  it('treats an empty file as no selectors', () => {
    expect(validatePipelineSelectors(null, 'destination-selectors.yaml')).toEqual([]);
  });

  it('refuses a directory that leaves the output directory', () => {
    for (const directory of ['../etc', '/etc', 'a/../../b']) {
      expect(
        messageOf(() => validatePipelineSelectors([{ directory, matchLabels: {} }], 'sel.yaml')),
      ).toBe(
        `sel.yaml: destination selectors: [0].directory: expected a relative path inside the output directory, without "..", got ${directory}`,
      );
    }
  });

  it('accepts an entry without matchLabels, which Kratix makes optional', () => {
    expect(validatePipelineSelectors([{ directory: 'a' }], 'sel.yaml')).toEqual([
      { directory: 'a', matchLabels: undefined },
    ]);
  });
});

describe('everything that later becomes a path or a key is checked where it enters', () => {
  const [, git, destination] = load('platform/dev-cluster.yaml') as [
    KratixObject,
    KratixObject,
    KratixObject,
  ];
  const [, bucket] = load('platform/prod-bucket.yaml') as [KratixObject, KratixObject];

  it('refuses a Destination whose spec.path leaves the state store', () => {
    expect(
      messageOf(() => validateDestination(first('bad/destination-path-outside.yaml'), 'd.yaml')),
    ).toBe(
      'd.yaml: Destination "outside": spec.path: expected a path inside the state store ("/"-separated, without "..", ".git", "\\" or control characters), got ../../outside (contains "..")',
    );
  });

  it.each([
    ['clusters/../../x', 'contains ".."'],
    ['.git/hooks', 'contains ".git", which Git reserves'],
    ['worker/.GIT', 'contains ".GIT", which Git reserves'],
    ['git~1', 'contains "git~1", which Git reserves'],
    ['..\\..\\x', 'contains "\\"'],
    ['a\nb', 'contains a control character'],
  ])('refuses Destination spec.path %j', (path, problem) => {
    const bad = edited(destination, (d) => (d.spec.path = path));
    expect(messageOf(() => validateDestination(bad, 'd.yaml'))).toBe(
      `d.yaml: Destination "worker-1": spec.path: expected a path inside the state store ("/"-separated, without "..", ".git", "\\" or control characters), got ${JSON.stringify(path).slice(1, -1)} (${problem})`,
    );
  });

  it('accepts nested, dotted and root-anchored Destination paths, as Kratix does', () => {
    for (const path of ['worker-1', 'clusters/dev/worker-1', './dev', '/', '.gitops/dev', 'v1.2']) {
      const accepted = validateDestination(edited(destination, (d) => (d.spec.path = path)));
      expect(accepted.spec?.path).toBe(path);
    }
  });

  it('refuses a state-store spec.path that leaves the store', () => {
    expect(
      messageOf(() =>
        validateGitStateStore(
          edited(git, (g) => (g.spec.path = '../elsewhere')),
          'g.yaml',
        ),
      ),
    ).toBe(
      'g.yaml: GitStateStore "default": spec.path: expected a path inside the state store ("/"-separated, without "..", ".git", "\\" or control characters), got ../elsewhere (contains "..")',
    );
    expect(
      messageOf(() =>
        validateBucketStateStore(
          edited(bucket, (b) => (b.spec.path = 'a/../../b')),
          'b.yaml',
        ),
      ),
    ).toBe(
      'b.yaml: BucketStateStore "minio-store": spec.path: expected a path inside the state store ("/"-separated, without "..", ".git", "\\" or control characters), got a/../../b (contains "..")',
    );
  });

  it('refuses a Git branch that git itself would refuse', () => {
    for (const branch of ['main..x', 'feature branch', '-main', 'main.lock', 'a//b', 'x@{1}']) {
      expect(
        messageOf(() =>
          validateGitStateStore(
            edited(git, (g) => (g.spec.branch = branch)),
            'g.yaml',
          ),
        ),
      ).toBe(
        `g.yaml: GitStateStore "default": spec.branch: expected a Git branch name (no spaces, "..", "~", "^", ":", "?", "*", "[", "\\", "@{", empty or dot-leading parts, nor ".lock" endings), got ${branch}`,
      );
    }
    expect(validateGitStateStore(edited(git, (g) => (g.spec.branch = 'team/state-v2'))).kind).toBe(
      'GitStateStore',
    );
  });

  it('refuses a bucket name S3 would refuse', () => {
    expect(
      messageOf(() =>
        validateBucketStateStore(
          edited(bucket, (b) => (b.spec.bucketName = 'Kratix_State')),
          'b.yaml',
        ),
      ),
    ).toBe(
      'b.yaml: BucketStateStore "minio-store": spec.bucketName: expected an S3 bucket name (3 to 63 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit), got Kratix_State',
    );
  });

  it('refuses a filepath.filename outside the Destination directory or naming no file', () => {
    const cases: [string, string][] = [
      ['../aggregated.yaml', '../aggregated.yaml (contains "..")'],
      ['.git/config', '.git/config (contains ".git", which Git reserves)'],
      ['/etc/passwd', '/etc/passwd (absolute)'],
      ['out/', 'out/ (not a file name)'],
    ];
    for (const [filename, got] of cases) {
      const bad = edited(
        destination,
        (d) => (d.spec.filepath = { mode: 'aggregatedYAML', filename }),
      );
      expect(messageOf(() => validateDestination(bad, 'd.yaml'))).toBe(
        `d.yaml: Destination "worker-1": spec.filepath.filename: expected a relative file path inside the Destination's directory (without "..", ".git", "\\" or control characters), got ${got}`,
      );
    }
  });

  it('refuses label keys and values Kubernetes would refuse, on any object', () => {
    expect(
      messageOf(() => validateDestination(first('bad/destination-bad-label-key.yaml'), 'd.yaml')),
    ).toBe(
      'd.yaml: Destination "worker-9": metadata.labels["bad key"]: expected a label key: [prefix/]name, the name made of letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got bad key',
    );
    const cases: [Record<string, string>, string, string][] = [
      [
        { 'a/b/c': 'x' },
        'metadata.labels["a/b/c"]',
        'expected a label key with at most one "/" ([prefix/]name), got a/b/c',
      ],
      [
        { 'Example.COM/x': 'x' },
        'metadata.labels["Example.COM/x"]',
        'expected a label key whose prefix is a DNS subdomain (at most 253 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit), got Example.COM/x',
      ],
      [
        { [`k${'x'.repeat(63)}`]: 'x' },
        `metadata.labels.k${'x'.repeat(63)}`,
        `expected a label key whose name (after any "/") has at most 63 characters, got k${'x'.repeat(63)}`,
      ],
      [
        { env: 'dev prod' },
        'metadata.labels.env',
        'expected a label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got dev prod',
      ],
      [
        { env: 'v'.repeat(64) },
        'metadata.labels.env',
        `expected a label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got ${'v'.repeat(64)} (64 characters)`,
      ],
      [
        { env: '-dev' },
        'metadata.labels.env',
        'expected a label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got -dev',
      ],
    ];
    for (const [labels, field, what] of cases) {
      const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels } };
      expect(messageOf(() => validateObject(secret, { file: 's.yaml' }))).toBe(
        `s.yaml: Secret "s": ${field}: ${what}`,
      );
    }
    const fine = {
      'kratix.io/promise-version': 'v1.0.0',
      'app.kubernetes.io/name': 'a_b.c',
      e: '',
    };
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels: fine } };
    expect(validateObject(secret).metadata.labels).toEqual(fine);
  });

  it('refuses annotation keys that are not label keys, and Secret keys Kubernetes refuses', () => {
    const annotated = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', annotations: { 'not a key': 'any value at all' } },
    };
    expect(messageOf(() => validateObject(annotated, { file: 's.yaml' }))).toBe(
      's.yaml: Secret "s": metadata.annotations["not a key"]: expected a label key: [prefix/]name, the name made of letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got not a key',
    );
    const keyed = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { 'a/b': 'x' },
    };
    expect(messageOf(() => validateObject(keyed, { file: 's.yaml' }))).toBe(
      's.yaml: Secret "s": stringData["a/b"]: expected a key of letters, digits, "-", "_" and ".", got a/b',
    );
  });

  it('states the 253-character limit of names, and 63 for names copied into labels', () => {
    const long = `${'a'.repeat(250)}-bcd`;
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: long } };
    expect(messageOf(() => validateObject(secret, { file: 's.yaml' }))).toBe(
      `s.yaml: Secret "${long}": metadata.name: expected a DNS-1123 subdomain (at most 253 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit), got ${'a'.repeat(60)}… (254 characters)`,
    );
    const name64 = 'm'.repeat(64);
    expect(
      messageOf(() =>
        validatePromise(
          edited(mongodb(), (p) => (p.metadata.name = name64)),
          'p.yaml',
        ),
      ),
    ).toBe(
      `p.yaml: Promise "${name64}": metadata.name: expected at most 63 characters (the name becomes the value of label kratix.io/promise-name), got ${name64} (64 characters)`,
    );
    const request = edited(
      first('mongodb/resource-request.yaml'),
      (r) => (r.metadata.name = name64),
    );
    expect(messageOf(() => validateResourceRequest(request, mongodb(), 'r.yaml'))).toBe(
      `r.yaml: MongoDB "${name64}": metadata.name: expected at most 63 characters (the name becomes the value of label kratix.io/resource-name), got ${name64} (64 characters)`,
    );
    expect(
      messageOf(() =>
        validateDestination(
          edited(destination, (d) => (d.metadata.name = name64)),
          'd.yaml',
        ),
      ),
    ).toBe(
      `d.yaml: Destination "${name64}": metadata.name: expected at most 63 characters (the name becomes the value of label kratix.io/targetDestinationName), got ${name64} (64 characters)`,
    );
    // Names that stay names may use all 253 characters.
    const name253 = `${'s'.repeat(126)}.${'t'.repeat(126)}`;
    expect(validateObject({ ...secret, metadata: { name: name253 } }).metadata.name).toBe(name253);
  });

  it('refuses pipeline names longer than a label value, and container names that are not DNS labels', () => {
    const pipelineName = 'p'.repeat(64);
    const longPipeline = edited(
      mongodb(),
      (p) => (p.spec.workflows.resource.configure[0].metadata.name = pipelineName),
    );
    expect(messageOf(() => validatePromise(longPipeline, 'p.yaml'))).toBe(
      `p.yaml: Promise "mongodb": spec.workflows.resource.configure[0].metadata.name: expected at most 63 characters (the name becomes the value of label kratix.io/pipeline-name), got ${pipelineName} (64 characters)`,
    );
    const dotted = edited(
      mongodb(),
      (p) => (p.spec.workflows.resource.configure[0].spec.containers[0].name = 'create.instance'),
    );
    expect(messageOf(() => validatePromise(dotted, 'p.yaml'))).toBe(
      'p.yaml: Promise "mongodb": spec.workflows.resource.configure[0].spec.containers[0].name: expected a DNS-1123 label (at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit), got create.instance',
    );
  });
});

describe('validateLabelPatch', () => {
  it('checks the labels `promiseflow label` sets as apply checks metadata.labels', () => {
    expect(messageOf(() => validateLabelPatch('Destination "worker-1"', { 'bad key': 'x' }))).toBe(
      'Destination "worker-1": metadata.labels["bad key"]: expected a label key: [prefix/]name, the name made of letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got bad key',
    );
    expect(messageOf(() => validateLabelPatch('Destination "d"', { env: 'a b' }))).toBe(
      'Destination "d": metadata.labels.env: expected a label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got a b',
    );
  });

  it('accepts valid changes and the removal of any key', () => {
    expect(() =>
      validateLabelPatch('Destination "d"', {
        'example.com/tier': 'gold',
        env: '',
        'bad key': null,
      }),
    ).not.toThrow();
  });
});

describe('validateObject', () => {
  const findPromiseForKind = (apiVersion: string, kind: string) =>
    apiVersion.startsWith('promise.kratix.io/') && kind === 'MongoDB' ? mongodb() : undefined;

  it('checks each kind with its own rules', () => {
    const objects = [
      mongodb(),
      ...load('platform/dev-cluster.yaml'),
      ...load('platform/prod-bucket.yaml'),
      ...load('mongodb/fleet-requests.yaml'),
    ];
    expect(objects.map((o) => validateObject(o, { findPromiseForKind }).kind)).toEqual([
      'Promise',
      'Secret',
      'GitStateStore',
      'Destination',
      'Secret',
      'BucketStateStore',
      'Destination',
      'MongoDB',
      'MongoDB',
      'MongoDB',
    ]);
  });

  it('checks resource requests against the Promise serving their kind', () => {
    const request = first('bad/mongodb-request-number-major-version.yaml');
    expect(messageOf(() => validateObject(request, { file: 'r.yaml', findPromiseForKind }))).toBe(
      'r.yaml: MongoDB "orders-db": spec.majorVersion: expected string, got number',
    );
  });

  it('refuses a kind no installed Promise serves', () => {
    const redis = {
      apiVersion: 'marketplace.kratix.io/v1alpha1',
      kind: 'Redis',
      metadata: { name: 'cache' },
    };
    expect(messageOf(() => validateObject(redis, { file: 'redis.yaml', findPromiseForKind }))).toBe(
      'redis.yaml: Redis "cache": kind: expected a kind served by an installed Promise, got marketplace.kratix.io/v1alpha1 Redis',
    );
  });

  it('refuses a platform kind under another apiVersion', () => {
    const destination = edited(
      first('bad/destination-missing-path.yaml'),
      (d) => (d.apiVersion = 'platform.kratix.io/v1'),
    );
    expect(messageOf(() => validateObject(destination, { file: 'd.yaml' }))).toBe(
      'd.yaml: Destination "worker-2": apiVersion: expected platform.kratix.io/v1alpha1, got platform.kratix.io/v1',
    );
  });
});

describe('promiseVersion', () => {
  it('is the kratix.io/promise-version label, or not-set', () => {
    expect(promiseVersion(mongodb())).toBe('v0.1.0');
    expect(promiseVersion(edited(mongodb(), (p) => delete p.metadata.labels))).toBe('not-set');
  });
});

describe('toDnsLabel', () => {
  it('keeps names that are already valid, such as revision names', () => {
    expect(toDnsLabel('redis-v0.1.0')).toBe('redis-v0.1.0');
    expect(toDnsLabel('mongodb-not-set')).toBe('mongodb-not-set');
  });

  it('lower-cases and replaces characters Kubernetes names do not allow', () => {
    expect(toDnsLabel('Foo_Bar')).toBe('foo-bar');
    expect(toDnsLabel('redis-1.0.0+build.5')).toBe('redis-1.0.0-build.5');
  });

  it('trims every dot-separated part to start and end with a letter or digit', () => {
    expect(toDnsLabel('-A..b-.-c-')).toBe('a.b.c');
  });

  it('keeps at most 253 characters', () => {
    const name = toDnsLabel(`${'a'.repeat(252)}-b`);
    expect(name).toBe('a'.repeat(252));
  });

  it('refuses text with no letter or digit', () => {
    expect(messageOf(() => toDnsLabel('--'))).toBe(
      'name: expected text with at least one letter or digit, got "--"',
    );
  });
});
