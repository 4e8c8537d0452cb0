import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const fixture = (f: string) => path.join(PROJECT_ROOT, 'test', 'fixtures', 'bad', f);

/** A Promise whose resource pipeline writes `.git/config` too for one request: no state store can hold it. */
const GIT_WRITER_PROMISE = `apiVersion: platform.kratix.io/v1alpha1
kind: Promise
metadata:
  name: gitwriter
spec:
  api:
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: gitwriters.example.promise.kratix.io
    spec:
      group: example.promise.kratix.io
      names: {kind: GitWriter, plural: gitwriters, singular: gitwriter}
      scope: Namespaced
      versions:
        - name: v1alpha1
          served: true
          storage: true
          schema:
            openAPIV3Schema: {type: object, properties: {spec: {type: object}}}
  workflows:
    resource:
      configure:
        - apiVersion: platform.kratix.io/v1alpha1
          kind: Pipeline
          metadata: {name: instance-configure}
          spec:
            containers:
              - name: write
                image: busybox
                command:
                  - sh
                  - -c
                  - |
                    printf 'kind: ConfigMap\\nmetadata: {name: %s}\\n' "$KRATIX_OBJECT_NAME" > /kratix/output/instance.yaml
                    if [ "$KRATIX_OBJECT_NAME" = writes-git ]; then
                      mkdir -p /kratix/output/.git && echo "[core]" > /kratix/output/.git/config
                    fi
`;
const gitWriter = (name: string) =>
  `apiVersion: example.promise.kratix.io/v1alpha1\nkind: GitWriter\nmetadata: {name: ${name}}\nspec: {}\n`;

/** Bad input is refused at the door with file, object, field, expected and got (issue 8). */
describe('bad input at the CLI', () => {
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;

  beforeAll(async () => {
    platform = await startTestPlatform('bad-input');
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    const r = await platform.cli(['apply', '-f', '-', '--wait'], stateStore.platformYaml);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
    await stateStore?.stop();
  });

  it('refuses a Destination whose spec.path leaves the state store, and stores nothing of its file', async () => {
    const good = `apiVersion: v1\nkind: Secret\nmetadata: {name: stored-only-if-all-valid}\nstringData: {a: b}\n`;
    const file = path.join(platform.dir, 'outside.yaml');
    fs.writeFileSync(
      file,
      `${good}---\n${fs.readFileSync(fixture('destination-path-outside.yaml'), 'utf8')}`,
    );
    const r = await platform.cli(['apply', '-f', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: ${file}: Destination "outside": spec.path: expected a path inside the state store ("/"-separated, without "..", ".git", "\\" or control characters), got ../../outside (contains "..")\n`,
    );
    expect((await platform.cli(['get', 'destinations', 'outside'])).code).toBe(2);
    expect((await platform.cli(['get', 'secrets', 'stored-only-if-all-valid'])).code).toBe(2);
  });

  it('refuses an empty file and a YAML alias bomb, naming the file', async () => {
    const empty = await platform.cli(['apply', '-f', fixture('empty.yaml')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(
      `error: ${fixture('empty.yaml')}: expected at least one Kubernetes object, got only comments and "---"\n`,
    );
    const stdin = await platform.cli(['apply', '-f', '-'], '');
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toBe(
      'error: <stdin>: expected at least one Kubernetes object, got an empty file\n',
    );
    const bomb = await platform.cli(['apply', '-f', fixture('alias-bomb.yaml')]);
    expect(bomb.code).toBe(2);
    expect(bomb.stderr).toBe(
      `error: ${fixture('alias-bomb.yaml')}: document 1: expected YAML whose aliases expand to a bounded size (at most 1000 alias expansions), got aliases that expand exponentially (a "billion laughs" alias bomb)\n`,
    );
  });

  it('refuses an invalid label key or value on `label`, and changes nothing', async () => {
    const badKey = await platform.cli(['label', 'destination', 'worker-1', 'bad key=x']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toBe(
      'error: Destination "worker-1": metadata.labels["bad key"]: expected a label key: [prefix/]name, the name made of letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got bad key\n',
    );
    const badValue = await platform.cli(['label', 'destination', 'worker-1', 'env=dev prod']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toBe(
      'error: Destination "worker-1": metadata.labels.env: expected a label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got dev prod\n',
    );
    const worker = (await platform.client.get('destinations', { name: 'worker-1' })).items[0]!;
    expect(worker.metadata.labels).toEqual({ environment: 'dev' });

    const ok = await platform.cli([
      'label',
      'destination',
      'worker-1',
      'team.example.com/owner=db',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('fails a pipeline that writes .git/config, naming the file; no Work is stored and the others go on', async () => {
    const installed = await platform.cli(['apply', '-f', '-', '--wait'], GIT_WRITER_PROMISE);
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);

    const bad = await platform.cli(['apply', '-f', '-', '--wait'], gitWriter('writes-git'));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      'pipeline "instance-configure" container "write" failed: output/.git/config: contains ".git", which Git reserves, so no state store can hold it',
    );
    const works = (await platform.client.get('works')).items.map((w) => w.metadata.name);
    expect(works.filter((n) => n.includes('writes-git'))).toEqual([]);

    const good = await platform.cli(['apply', '-f', '-', '--wait'], gitWriter('writes-ok'));
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(
      await stateStore.read(
        'worker-1/resources/default/gitwriter/writes-ok/instance-configure/5058f/instance.yaml',
      ),
    ).toBe('kind: ConfigMap\nmetadata: {name: writes-ok}\n');
    // Destinations still reconcile: nothing unwritable was stored for them to trip on.
    const relabel = await platform.cli(['label', 'destination', 'worker-1', 'tier=gold', '--wait']);
    expect(relabel.code, relabel.stdout + relabel.stderr).toBe(0);
  });
});
