import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromiseflowClient } from '../../src/client/platform-client';
import { resolveConfig } from '../../src/config';
import type { PromiseflowConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { parseKratixYaml } from '../../src/model/load';
import { openSqlitePlatformStore } from '../../src/platform/sqlite';
import type { PlatformStore } from '../../src/platform/store';
import { connectClient } from '../../src/temporal/client';
import type { TemporalConnection } from '../../src/temporal/client';
import { startDevServer } from '../../tools/servers/temporal-dev-server';
import type { DevServer } from '../../tools/servers/temporal-dev-server';
import { installTemporalRuntime } from '../../src/worker/runtime';
import { createPromiseflowWorker } from '../../src/worker/worker';
import type { WorkerHandle } from '../../src/worker/worker';
import { abortSignal, pauseSignal, progressQuery } from '../../src/workflows/messages';

/** Debian's chromium (scripts/setup.sh installs it); never a browser Playwright downloads. */
const CHROMIUM = '/usr/bin/chromium';
const FLEET = 200;
/** Early in the store's order, so they fail in the first seconds of the update. */
const FAILING = ['app-003', 'app-004'];
const UPDATE_ID = 'promise-update/web';
/** How long the page may take to show what the workflow already published. */
const UI_DEADLINE_MS = 30_000;

function promise(version: string): string {
  return `apiVersion: platform.kratix.io/v1alpha1
kind: Promise
metadata:
  name: web
  labels:
    kratix.io/promise-version: ${version}
spec:
  api:
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: sites.example.promiseflow.io
    spec:
      group: example.promiseflow.io
      names: {kind: Site, plural: sites, singular: site}
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
                command:
                  - sh
                  - -c
                  - |
                    if grep -q 'size: huge' /kratix/input/object.yaml; then
                      echo 'size "huge" is not offered (small, large)' >&2; exit 1
                    fi
                    echo "site ${version}" > /kratix/output/site.yaml
`;
}

/**
 * Temporal Web shows a Promise update's progress where an operator looks (issue 13): the
 * phase and done/total on the update's page and in the workflow list, a failure within
 * seconds, a paused update as paused. A real dev server with its Web UI, a real worker, a
 * 200-resource update, and Debian's Chromium driven by playwright-core.
 */
describe('a Promise update in Temporal Web', () => {
  let dir: string;
  let server: DevServer;
  let config: PromiseflowConfig;
  let worker: WorkerHandle;
  let running: Promise<void>;
  let store: PlatformStore;
  let temporal: TemporalConnection;
  let client: PromiseflowClient;
  let browser: BrowserContext;
  let page: Page;

  const update = () => client.temporal.workflow.getHandle(UPDATE_ID);
  async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean) {
    const deadline = Date.now() + 60_000;
    let last: T | undefined;
    while (Date.now() < deadline) {
      last = await read().catch(() => undefined);
      if (last !== undefined && ok(last)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
  }

  /** The update's row in the list, as column → text (the page is loaded afresh each time). */
  async function listRow(): Promise<Record<string, string>> {
    const query = encodeURIComponent("WorkflowType = 'promiseUpdate'");
    await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${query}`);
    const row = page.locator('tr', { hasText: UPDATE_ID }).first();
    await row.waitFor({ timeout: UI_DEADLINE_MS });
    const headers = await page.locator('thead th').allInnerTexts();
    const cells = await row.locator('td').allInnerTexts();
    return Object.fromEntries(headers.map((h, i) => [h.trim(), (cells[i] ?? '').trim()]));
  }

  /** Reloads the list until the row satisfies `ok` (the UI does not push changes). */
  async function listRowUntil(ok: (row: Record<string, string>) => boolean) {
    const deadline = Date.now() + UI_DEADLINE_MS;
    let row: Record<string, string> = {};
    while (Date.now() < deadline) {
      row = await listRow();
      if (ok(row)) return row;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`the workflow list never showed it; last row: ${JSON.stringify(row)}`);
  }

  beforeAll(async () => {
    installTemporalRuntime('WARN');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promiseflow-web-'));
    server = await startDevServer({
      temporalBin: resolveConfig().temporalBin,
      logFile: path.join(dir, 'temporal.log'),
    });
    config = resolveConfig({
      dataDir: path.join(dir, 'data'),
      temporalAddress: server.address,
      taskQueue: 'web',
      concurrency: 2,
    });
    worker = await createPromiseflowWorker(
      config,
      createLogger({ file: path.join(dir, 'worker.log'), level: 'info' }),
    );
    running = worker.run();
    store = openSqlitePlatformStore(config.dataDir);
    temporal = await connectClient(config);
    client = new PromiseflowClient(config, store, temporal.client);
    const [first] = await client.apply(parseKratixYaml(promise('v1'), 'web-v1.yaml'), 'v1');
    expect(await client.waitFor([first!.workflow!])).toMatchObject([{ ok: true }]);
    for (let i = 0; i < FLEET; i++) {
      const name = `app-${String(i).padStart(3, '0')}`;
      await store.apply({
        apiVersion: 'example.promiseflow.io/v1alpha1',
        kind: 'Site',
        metadata: { name, namespace: 'default' },
        spec: { size: FAILING.includes(name) ? 'huge' : 'small' },
      });
    }
    browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1600, height: 1000 },
    });
    // The columns an operator adds once with the list's column picker (kept by the UI in
    // local storage): the update's search attributes.
    const columns = [
      'Status',
      'Workflow ID',
      'UpdatePhase',
      'ResourcesDone',
      'ResourcesFailed',
      'ResourcesTotal',
    ].map((label) => ({ label }));
    await browser.addInitScript({
      content: `localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(
        JSON.stringify({ default: columns }),
      )});`,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    // The profile is large and of no use afterwards; the logs stay for a failed run.
    if (dir) fs.rmSync(path.join(dir, 'chromium-profile'), { recursive: true, force: true });
    await worker?.shutdown();
    await running;
    await temporal?.close();
    await store?.close();
    await server?.stop();
  });

  it(`shows the phase, done/total and failures of a ${FLEET}-resource update, and a pause`, async () => {
    const [applied] = await client.apply(parseKratixYaml(promise('v2'), 'web-v2.yaml'), 'v2');
    expect(applied?.workflow?.handle.workflowId).toBe(UPDATE_ID);

    // A failure is listed while the update runs on, within seconds.
    await until(
      'a failed resource',
      () => update().query(progressQuery),
      (p) => p.failed > 0,
    );
    const failing = await listRowUntil((r) => Number(r.ResourcesFailed) > 0);
    expect(failing.Status).toBe('Running');
    expect(failing.UpdatePhase).toBe('resources');
    expect(failing.ResourcesTotal).toBe(String(FLEET));
    expect(Number(failing.ResourcesDone)).toBeLessThan(FLEET);

    // Paused: nothing moves, so the page must show exactly these numbers.
    await update().signal(pauseSignal);
    const held = await until(
      'the update to hold',
      () => update().query(progressQuery),
      (p) => p.paused && p.running === 0,
    );
    // The last re-runs may have ended after the pause was listed: the next flush shows them.
    const expected = {
      Status: 'Running',
      UpdatePhase: 'paused',
      ResourcesDone: String(held.done),
      ResourcesFailed: String(held.failed),
      ResourcesTotal: String(FLEET),
    };
    await listRowUntil((r) => Object.entries(expected).every(([k, v]) => r[k] === v));

    // The update's own page: its current details (User Metadata).
    await page.getByText(UPDATE_ID, { exact: true }).first().click();
    await page.getByText('User Metadata', { exact: true }).first().click();
    // Temporal Web renders the Markdown of summary and details in frames of their own.
    const text = await until(
      'the current details on the page',
      async () => {
        const texts = await Promise.all(
          page.frames().map((f) =>
            f
              .locator('body')
              .innerText()
              .catch(() => ''),
          ),
        );
        return texts.find((t) => t.includes(' done ·')) ?? '';
      },
      (t) => t.includes(`${held.done} of ${FLEET} done`),
    );
    expect(text).toMatch(/phase\s+paused/);
    expect(text).toContain(`${held.failed} failed`);
    expect(text).toContain('Paused: no new resource re-runs start until');
    // The failing pipeline's own words, not just an exit code.
    expect(text).toMatch(/size .huge. is not offered \(small, large\)/);

    await update().signal(abortSignal, 'browser test done');
    expect(await update().result()).toMatchObject({ phase: 'aborted' });
  });
});
