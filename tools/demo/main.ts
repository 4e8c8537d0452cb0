import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { PromiseflowClient } from '../../src/client/platform-client';
import type { StartedWorkflow } from '../../src/client/workflow-starts';
import { logFile, PROJECT_ROOT, resolveConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { parseKratixYaml } from '../../src/model/load';
import { openSqlitePlatformStore } from '../../src/platform/sqlite';
import { connectClient } from '../../src/temporal/client';
import { freePort, startDevServer } from '../servers/temporal-dev-server';
import { installTemporalRuntime } from '../../src/worker/runtime';
import { createPromiseflowWorker } from '../../src/worker/worker';
import { formatTable } from '../../src/cli/output';
import { recordHistories } from '../record-histories';
import { provisionStateStore, STATE_STORE_BACKENDS } from '../servers/state-store-backends';
import type { ProvisionedStateStore, StateStoreBackend } from '../servers/state-store-backends';

/**
 * The main job on embedded defaults: the seeds' MongoDB fleet upgrade, end to end, on a
 * real Temporal dev server, a real worker and a real Git state store.
 */

const EXPECTED = { 'mongo-v4': '4.4.24', 'mongo-v5': '5.0.15', 'mongo-v6': '6.0.10' } as const;

async function portOr(preferred: number): Promise<number> {
  const free = await freePort();
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(free));
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(preferred)));
  });
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<number> {
  const opts = new Command('demo')
    .option(
      '--keep-running',
      'leave the Temporal server (and Web UI) and the worker running at the end',
    )
    .addOption(
      new Option(
        '--state-store <backend>',
        'where Destinations write: a local bare repo, Git over HTTPS, or S3 (MinIO)',
      )
        .choices(STATE_STORE_BACKENDS)
        .default(process.env.PROMISEFLOW_DEMO_STATE_STORE ?? 'git'),
    )
    .addOption(
      new Option(
        '--pipelines <runner>',
        'how pipeline containers run: local sandboxed processes, or real OCI containers (podman)',
      )
        .choices(['local', 'container'])
        .default(process.env.PROMISEFLOW_PIPELINE_RUNNER ?? 'local'),
    )
    .option(
      '--record-histories <dir>',
      'save every workflow history as JSON (fixtures for the replay test)',
    )
    .addOption(
      new Option('--data-dir <dir>', 'where the demo keeps its data (wiped first)').default(
        path.join(PROJECT_ROOT, '.promiseflow', 'demo'),
      ),
    )
    .parse(process.argv)
    .opts<{
      keepRunning?: boolean;
      dataDir: string;
      recordHistories?: string;
      stateStore: StateStoreBackend;
      pipelines: string;
    }>();
  const keepRunning =
    opts.keepRunning === true || process.env.PROMISEFLOW_DEMO_KEEP_RUNNING === '1';

  fs.rmSync(opts.dataDir, { recursive: true, force: true });
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const grpcPort = await portOr(7233);
  const uiPort = await portOr(8233);
  const base = resolveConfig({ dataDir: opts.dataDir });
  say('▶ starting the Temporal dev server (temporal server start-dev)');
  const server = await startDevServer({
    temporalBin: base.temporalBin,
    port: grpcPort,
    uiPort,
    dbFile: path.join(opts.dataDir, 'temporal.db'),
    logFile: path.join(opts.dataDir, 'temporal-server.log'),
  });
  const config = resolveConfig({
    dataDir: opts.dataDir,
    temporalAddress: server.address,
    pipelineRunner: opts.pipelines,
  });
  installTemporalRuntime('WARN');
  const logger = createLogger({ file: logFile(config), level: 'info', name: 'worker' });
  say(`  Temporal at ${server.address}, Web UI at ${server.uiUrl}; engine log: ${logFile(config)}`);
  say(
    config.pipelineRunner === 'container'
      ? '  pipelines run as OCI containers (podman; local images from examples/images.yaml)'
      : '  pipelines run as sandboxed local processes (--pipelines container for podman)',
  );
  const worker = await createPromiseflowWorker(config, logger);
  const running = worker.run();
  const store = openSqlitePlatformStore(config.dataDir);
  const temporal = await connectClient(config);
  const client = new PromiseflowClient(config, store, temporal.client);
  const ids: string[] = [];

  async function apply(file: string, text?: string): Promise<void> {
    const content = text ?? fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
    const outcomes = await client.apply(parseKratixYaml(content, file), file);
    const started: StartedWorkflow[] = [];
    for (const o of outcomes) {
      say(
        `  ${o.object} ${o.result}${o.workflow ? `  → workflow ${o.workflow.handle.workflowId}` : ''}`,
      );
      if (o.workflow) {
        started.push(o.workflow);
        ids.push(o.workflow.handle.workflowId);
      }
    }
    let last = '';
    for (const r of await client.waitFor(started, (label, p) => {
      const line = `    ${label}: ${p.phase}, ${p.done}/${p.total} resources re-run, ${p.failed} failed`;
      if ((p.phase === 'resources' || p.phase === 'done') && line !== last) say(line);
      last = line;
    })) {
      if (!r.ok) throw new Error(`${r.label} failed: ${r.message} (workflow ${r.workflowId})`);
    }
  }

  async function show(kind: string): Promise<void> {
    const { kind: info, items } = await client.get(kind);
    say(formatTable(info, items, false).replace(/^/gm, '  '));
  }

  let exitCode = 0;
  let stateStore: ProvisionedStateStore | undefined;
  try {
    say(
      `▶ registering Destinations platform-cluster and worker-1 on a state store (${opts.stateStore})`,
    );
    stateStore = await provisionStateStore(opts.stateStore, path.join(opts.dataDir, 'state-store'));
    say(`  state store: ${stateStore.location}`);
    await apply('examples/mongodb/platform.yaml', stateStore.platformYaml);

    say('▶ installing the MongoDB Promise (pipeline image mongodb-configure-pipeline:v0.1.0)');
    await apply('examples/mongodb/promise.yaml');
    say('▶ requesting mongo-v4, mongo-v5, mongo-v6');
    for (const n of ['mongo-v4', 'mongo-v5', 'mongo-v6']) await apply(`examples/mongodb/${n}.yaml`);
    say('  $ promiseflow get mongodbs');
    await show('mongodbs');

    say('▶ upgrading the fleet: applying the Promise with the image bumped to :v0.2.0');
    await apply('examples/mongodb/promise-v0.2.0.yaml');

    say('\n$ promiseflow get promiserevisions');
    await show('promiserevisions');
    say('$ promiseflow get mongodbs');
    await show('mongodbs');
    say(`\nState store ${stateStore.location}:`);
    for (const [name, version] of Object.entries(EXPECTED)) {
      const file = `worker-1/resources/default/mongodb/${name}/instance-configure/5058f/mongodb-instance.yaml`;
      const content = (await stateStore.read(file)) ?? '';
      const found = /version:\s*"?([\d.]+)/.exec(content)?.[1] ?? 'missing';
      const ok = found === version;
      if (!ok) exitCode = 1;
      say(`  ${ok ? '✓' : '✗'} ${file}: MongoDB ${found}${ok ? '' : ` (expected ${version})`}`);
    }
    const requests = (await client.get('mongodbs')).items;
    for (const r of requests) {
      const want = EXPECTED[r.metadata.name as keyof typeof EXPECTED];
      if (want && r.status?.message !== `mongodb version: ${want}`) exitCode = 1;
    }
    const commits = await stateStore.history();
    if (commits.length > 0)
      say(`\nCommits (newest first):\n${commits.map((c) => `  ${c}`).join('\n')}\n`);
    say(
      'Workflows (temporal workflow describe --workflow-id ID --address ' + server.address + '):',
    );
    for (const id of [...new Set(ids)]) say(`  ${id}`);
    // The update's re-runs are children under each resource's own id: its latest run.
    say(`  (the resource-reconcile/… runs above are, latest, the update's children)`);
    say(`\nTemporal Web: ${server.uiUrl}/namespaces/default/workflows`);
    say(
      exitCode === 0
        ? '\n✔ fleet upgraded: 4.4.24 / 5.0.15 / 6.0.10'
        : '\n✘ the fleet did not end at the expected versions',
    );
  } catch (err) {
    exitCode = 1;
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }

  if (opts.recordHistories && exitCode === 0) {
    // Exercise the remaining workflow types so every one has a history to replay.
    const deletions = [
      ...(
        await client.delete('workplacements', { labelSelector: 'kratix.io/resource-name=mongo-v6' })
      ).workflows,
      ...(await client.delete('promiserevisions', { name: 'mongodb-v0.1.0' })).workflows,
    ];
    await client.waitFor(deletions);
    await client.waitFor((await client.delete('mongodbs', { name: 'mongo-v5' })).workflows);
    await client.waitFor((await client.delete('promises', { name: 'mongodb' })).workflows);
    const saved = await recordHistories(temporal.client, opts.recordHistories);
    say(`\nSaved ${saved} workflow histories to ${opts.recordHistories}`);
  }

  if (keepRunning) {
    say(
      `\nKept running (Ctrl-C to stop). Try:\n  PROMISEFLOW_DATA_DIR=${opts.dataDir} PROMISEFLOW_TEMPORAL_ADDRESS=${server.address} ./bin/promiseflow get mongodbs`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
  await worker.shutdown();
  await running;
  await temporal.close();
  await store.close();
  await stateStore?.stop();
  await server.stop();
  return exitCode;
}

/** Every closed workflow's history, as the replay test reads them. */
main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
