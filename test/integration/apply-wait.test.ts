import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const exec = promisify(execFile);
const FLEET = 24;
const RUNS = 8;

function promise(version: string): string {
  return `apiVersion: platform.kratix.io/v1alpha1
kind: Promise
metadata:
  name: fleet
  labels:
    kratix.io/promise-version: ${version}
spec:
  api:
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: apps.example.promiseflow.io
    spec:
      group: example.promiseflow.io
      names: {kind: App, plural: apps, singular: app}
      scope: Namespaced
      versions:
        - name: v1alpha1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    size: {type: string}
  workflows:
    resource:
      configure:
        - apiVersion: platform.kratix.io/v1alpha1
          kind: Pipeline
          metadata:
            name: render
          spec:
            containers:
              - name: render
                image: busybox
                command: [sh, -c, 'echo "rendered by ${version}" > /kratix/output/app.yaml']
`;
}

/** Progress lines of `--wait` on a pipe: `promise/fleet (v2): resources 12/24 (0 failed)`. */
const PROGRESS_LINE = /^promise\/fleet \(v\d+\): [a-z-]+ \d+\/\d+ \(\d+ failed\)$/;

/**
 * `apply --wait` used to end a good fleet upgrade with an uncaught grpc-js "Channel has
 * been shut down" (exit 1) when a progress query was being retried as the CLI closed its
 * connection (issue 13).
 */
describe('apply --wait of a fleet upgrade', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform('apply-wait');
    const r = await platform.cli(['apply', '-f', '-', '--wait'], promise('v0'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Existing requests, stored directly: every update re-runs all of them.
    for (let i = 0; i < FLEET; i++) {
      await platform.client.store.apply({
        apiVersion: 'example.promiseflow.io/v1alpha1',
        kind: 'App',
        metadata: { name: `app-${i}`, namespace: 'default' },
        spec: { size: 'small' },
      });
    }
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it(`exits 0 with nothing but progress on stderr, ${RUNS} upgrades in a row`, async () => {
    for (let run = 1; run <= RUNS; run++) {
      const r = await platform.cli(['apply', '-f', '-', '--wait'], promise(`v${run}`));
      const context = `run ${run}:\n${r.stdout}${r.stderr}`;
      expect(r.code, context).toBe(0);
      expect(r.stdout, context).toContain(
        `promise/fleet (v${run}): done (completed) [workflow promise-update/fleet]`,
      );
      const stderr = r.stderr.split('\n').filter((l) => l !== '');
      expect(
        stderr.filter((l) => !PROGRESS_LINE.test(l)),
        context,
      ).toEqual([]);
      expect(stderr.at(-1), context).toBe(
        `promise/fleet (v${run}): done ${FLEET}/${FLEET} (0 failed)`,
      );
    }
  });

  it('closes a connection whose call is being retried without anything firing afterwards', async () => {
    // A call fails with UNAVAILABLE (its connection dropped by a proxy) and is due for a
    // retry when the client closes: before the fix, the retry's timer threw from grpc-js.
    const script = `
      const net = require('node:net');
      const { connectClient } = require(${JSON.stringify(path.join(PROJECT_ROOT, 'dist', 'src', 'temporal', 'client.js'))});
      const [host, port] = ${JSON.stringify(inject('temporalAddress'))}.split(':');
      const sockets = new Set();
      const proxy = net.createServer((client) => {
        const server = net.connect(Number(port), host);
        client.pipe(server).pipe(client);
        for (const s of [client, server]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => { client.destroy(); server.destroy(); });
        }
      });
      proxy.listen(0, '127.0.0.1', async () => {
        const config = { temporal: { address: '127.0.0.1:' + proxy.address().port, namespace: 'default' } };
        const direct = await connectClient({ temporal: { address: ${JSON.stringify(inject('temporalAddress'))}, namespace: 'default' } });
        const conn = await connectClient(config);
        const handle = await conn.client.workflow.start('nobodyRunsThis', {
          taskQueue: 'nobody-' + process.pid,
          workflowId: 'close-during-retry-' + process.pid,
        });
        const waiting = handle.result().then(() => 'completed', (err) => 'rejected');
        await new Promise((r) => setTimeout(r, 300));
        for (const s of sockets) s.destroy();
        await conn.close();
        const outcome = await waiting;
        // Longer than any first retry delay: a retry left scheduled would fire here.
        await new Promise((r) => setTimeout(r, 1500));
        await direct.client.workflow.getHandle(handle.workflowId).terminate('test done');
        await direct.close();
        proxy.close();
        process.stdout.write('result ' + outcome + '\\n');
      });
    `;
    const r = await exec(process.execPath, ['-e', script]).then(
      (ok) => ({ ...ok, code: 0 }),
      (err: { stdout: string; stderr: string; code: number }) => err,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('result rejected\n');
  });
});
