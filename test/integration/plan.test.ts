import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdatePlan } from '../../src/model/update-plan';
import { cliOk } from '../support/cli';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';
import { kindOf, shPromise, shRequest } from '../support/sh-promise';
import { createStateRepo } from '../support/state-repo';
import type { StateRepo } from '../support/state-repo';

const PROMISE = 'planapp';
/** Each request asks for the Destination of its team (`env: <team>`); the Promise may overrule. */
const resourceScript = (version: string) =>
  [
    "team=$(sed -n 's/^ *team: *//p' /kratix/input/object.yaml | head -n 1)",
    `printf 'name: %s\\nteam: %s\\nversion: ${version}\\n' "$KRATIX_OBJECT_NAME" "$team" > /kratix/output/config.yaml`,
    `printf -- '- matchLabels:\\n    env: %s\\n' "$team" > /kratix/metadata/destination-selectors.yaml`,
  ].join('\n');
const promiseScript = (version: string) =>
  `printf 'kind: Shared\\nversion: ${version}\\n' > /kratix/output/shared.yaml`;
const promise = (version: string, matchLabels?: Record<string, string>) =>
  shPromise({
    name: PROMISE,
    version,
    resourceScript: resourceScript(version),
    promiseScript: promiseScript(version),
    ...(matchLabels ? { matchLabels } : {}),
  });
const request = (name: string, team: string) => shRequest(PROMISE, name, team);
const platformYaml = (url: string) => `apiVersion: platform.kratix.io/v1alpha1
kind: GitStateStore
metadata: {name: default}
spec: {url: ${url}, branch: main}
---
apiVersion: platform.kratix.io/v1alpha1
kind: Destination
metadata: {name: dev, labels: {env: dev}}
spec: {path: dev, stateStoreRef: {kind: GitStateStore, name: default}}
---
apiVersion: platform.kratix.io/v1alpha1
kind: Destination
metadata: {name: prod, labels: {env: prod}}
spec: {path: prod, stateStoreRef: {kind: GitStateStore, name: default}}
`;
const resourceFile = (destination: string, name: string) =>
  `${destination}/resources/default/${PROMISE}/${name}/render/5058f/config.yaml`;
const sharedFile = (destination: string) =>
  `${destination}/dependencies/${PROMISE}/promise-render/5058f/shared.yaml`;

/**
 * `promiseflow plan` and `apply --dry-run` (rollout-policy issue, part 5): what an update
 * would do — re-runs, batches, placements, file diffs — with nothing written anywhere.
 */
describe('plan before apply', () => {
  let platform: TestPlatform;
  let repo: StateRepo;
  let v2File: string;

  /** Everything an update could change: the state store, the platform's objects, events, workflows. */
  async function snapshot() {
    const head = (
      await import('simple-git').then(({ simpleGit }) =>
        simpleGit().raw(['--git-dir', repo.dir, 'rev-parse', 'refs/heads/main']),
      )
    ).trim();
    const files: Record<string, string | undefined> = {};
    for (const f of await repo.files()) files[f] = await repo.read(f);
    const objects: Record<string, string> = {};
    for (const kind of [
      'promises',
      'promiserevisions',
      'resourcebindings',
      'works',
      'workplacements',
      'destinations',
      'gitstatestores',
      `${PROMISE}s`,
    ]) {
      objects[kind] = await cliOk(platform, ['get', kind, '-o', 'json']);
    }
    const events: Record<string, unknown> = {
      promise: await platform.client.events({ kind: 'Promise', name: PROMISE }),
    };
    for (const n of ['a', 'b', 'c', 'd']) {
      events[n] = await platform.client.events({
        kind: kindOf(PROMISE),
        name: n,
        namespace: 'default',
      });
    }
    return { head, files, objects, events };
  }

  async function workflowCount(): Promise<number> {
    const { count } = await platform.client.temporal.workflow.count(
      `TaskQueue = '${platform.config.temporal.taskQueue}'`,
    );
    return count;
  }

  beforeAll(async () => {
    platform = await startTestPlatform('plan');
    repo = await createStateRepo(path.join(platform.dir, 'state.git'));
    const run = async (yaml: string) => {
      const r = await platform.cli(['apply', '-f', '-', '--wait'], yaml);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    };
    await run(platformYaml(repo.url));
    await run(promise('v1'));
    await run(
      [request('a', 'dev'), request('b', 'prod'), request('c', 'dev'), request('d', 'dev')].join(
        '---\n',
      ),
    );
    // d stays on v1 whatever the update does.
    await run(`apiVersion: platform.kratix.io/v1alpha1
kind: ResourceBinding
metadata: {name: d-${PROMISE}, namespace: default}
spec:
  promiseRef: {name: ${PROMISE}}
  resourceRef: {name: d, namespace: default}
  version: v1
`);
    v2File = path.join(platform.dir, 'promise-v2.yaml');
    // v2: every request's output says v2, and the Promise sends all of it to prod.
    fs.writeFileSync(v2File, promise('v2', { env: 'prod' }));
    expect(await repo.read(resourceFile('dev', 'a'))).toContain('version: v1');
    expect(await repo.read(resourceFile('prod', 'b'))).toContain('version: v1');
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('lists re-runs, batches, pinned requests, the placements that become misplaced and the file diffs, and writes nothing', async () => {
    // Let visibility catch up with the set-up's workflows before counting them.
    await new Promise((r) => setTimeout(r, 1500));
    const before = await snapshot();
    const workflowsBefore = await workflowCount();

    const text = await cliOk(platform, ['plan', '-f', v2File]);
    expect(text).toContain(`Promise ${PROMISE}: v1 → v2`);
    expect(text).toContain(
      'Rollout: default policy, one batch, maxConcurrency 10, no failure budget, onFailure halt',
    );
    expect(text).toMatch(/resources re-run: 3 in 1 batch; pinned to another version.*: 1/);
    expect(text).toContain('placements: 2 added, 2 kept, 3 misplaced');
    expect(text).toContain('default/d @ v1');
    // b stays on prod: its file changes in place.
    expect(text).toContain(
      `--- a/${resourceFile('prod', 'b')}\n+++ b/${resourceFile('prod', 'b')}`,
    );
    expect(text).toMatch(/-version: v1\n\+version: v2/);
    // a moves to prod: a new file there; its file on dev is left alone (misplaced).
    expect(text).toContain(`--- /dev/null\n+++ b/${resourceFile('prod', 'a')}`);
    expect(text).toContain('+name: a\n+team: dev\n+version: v2');
    expect(text).not.toContain(resourceFile('dev', 'a'));

    const plan = JSON.parse(
      await cliOk(platform, ['plan', '-f', v2File, '-o', 'json']),
    ) as UpdatePlan;
    expect(plan.currentVersion).toBe('v1');
    expect(plan.proposedVersion).toBe('v2');
    expect(plan.resources.map((r) => `${r.namespace}/${r.name}`)).toEqual([
      'default/a',
      'default/b',
      'default/c',
    ]);
    expect(plan.batches).toEqual([['default/a', 'default/b', 'default/c']]);
    expect(plan.pinned).toEqual([{ namespace: 'default', name: 'd', version: 'v1' }]);
    const all = [...plan.promiseWorks, ...plan.resources.flatMap((r) => r.works)].flatMap(
      (w) => w.changes,
    );
    expect(
      all
        .filter((c) => c.change === 'misplaced')
        .map((c) => c.placement)
        .sort(),
    ).toEqual([
      `${PROMISE}-a-render.dev`,
      `${PROMISE}-c-render.dev`,
      `${PROMISE}-promise-render.dev`,
    ]);
    expect(
      all
        .filter((c) => c.change === 'added')
        .map((c) => c.placement)
        .sort(),
    ).toEqual([`${PROMISE}-a-render.prod`, `${PROMISE}-c-render.prod`]);
    expect(plan.files.map((f) => [f.destination, f.path, f.change])).toEqual([
      ['prod', sharedFile('prod'), 'modified'],
      ['prod', resourceFile('prod', 'a'), 'added'],
      ['prod', resourceFile('prod', 'b'), 'modified'],
      ['prod', resourceFile('prod', 'c'), 'added'],
    ]);
    expect(plan.summary.filesChanged).toEqual({ prod: 4 });

    // A policy named that does not exist, and a bad override, are refused clearly.
    const unknown = await platform.cli(['plan', '-f', v2File, '--rollout-policy', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--rollout-policy: expected the name of a RolloutPolicy');
    const override = await cliOk(platform, ['plan', '-f', v2File, '--rollout', '{"batchSize":2}']);
    expect(override).toContain('Rollout: per-update policy, batches of 2');
    expect(override).toMatch(/Batches:\n {2}1: default\/a, default\/b\n {2}2: default\/c/);
    const bad = await platform.cli(['plan', '-f', v2File, '--rollout', '{"batchSize":0}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('options.rollout.batchSize');

    // apply --dry-run: the Promise's plan, and what would happen to each other object.
    const dry = await platform.cli(
      ['apply', '--dry-run', '-f', '-'],
      [promise('v2', { env: 'prod' }), request('a', 'dev'), request('e', 'prod')].join('---\n'),
    );
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`promise/${PROMISE} (dry run: would be configured)`);
    expect(dry.stdout).toContain(`Promise ${PROMISE}: v1 → v2`);
    expect(dry.stdout).toContain(`misplaced: ${PROMISE}-a-render.dev`);
    expect(dry.stdout).toContain(`${PROMISE}/default/a (dry run: would be unchanged)`);
    expect(dry.stdout).toContain(`${PROMISE}/default/e (dry run: would be created)`);
    const badPromise = await platform.cli(
      ['apply', '--dry-run', '-f', '-'],
      promise('v2').replace(`name: ${PROMISE}\n`, 'name: Bad_Name\n'),
    );
    expect(badPromise.code).toBe(2);
    expect(badPromise.stderr).toContain('metadata.name');

    await new Promise((r) => setTimeout(r, 1500));
    const after = await snapshot();
    expect(after.head).toBe(before.head);
    expect(after.files).toEqual(before.files);
    expect(after.objects).toEqual(before.objects);
    expect(after.events).toEqual(before.events);
    expect(await workflowCount()).toBe(workflowsBefore);
  });
});
