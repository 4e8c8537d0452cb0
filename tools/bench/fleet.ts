/**
 * The fleet benchmark: a Promise update re-running N resources (N = 1,000 and 10,000 by
 * default) through Promiseflow, against the Temporal floor, in one run on one dev server:
 * N child workflows with one no-op activity each at the same concurrency, continuing as
 * new. Prints both times, their ratio, resources/s, t(largest)/t(smallest), the worker's
 * peak RSS, the largest workflow history, the state-store commits, the time to create the
 * N requests (`apply` of one multi-document file) and of a no-op re-apply, and checks
 * every resource's file in the state store is at the new version.
 *
 * Diagnostics: `PROMISEFLOW_BENCH_TRACE=1` prints one resource's history with timings,
 * `PROMISEFLOW_BENCH_PROFILE=DIR` has the worker write a V8 CPU profile there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { simpleGit } from 'simple-git';
import { NativeConnection, Worker } from '@temporalio/worker';
import { PromiseflowClient } from '../../src/client/platform-client';
import { PROJECT_ROOT, resolveConfig, type PromiseflowConfig } from '../../src/config';
import { parseKratixYaml } from '../../src/model/load';
import { openSqlitePlatformStore } from '../../src/platform/sqlite';
import { connectClient } from '../../src/temporal/client';
import { installTemporalRuntime } from '../../src/worker/runtime';
import { provisionStateStore } from '../servers/state-store-backends';
import { startDevServer, type DevServer } from '../servers/temporal-dev-server';
import { shPromise, shRequest } from '../fixtures/sh-promise';
import type { FloorInput } from './floor-workflows';

/** `PROMISEFLOW_BENCH_FLEET=200,2000` picks other sizes (the first is the base of the growth ratio). */
function fleetSizes(): number[] {
  const raw = process.env.PROMISEFLOW_BENCH_FLEET ?? '1000,10000';
  const sizes = raw.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`PROMISEFLOW_BENCH_FLEET: expected sizes like 1000,10000, got "${raw}"`);
  }
  return sizes;
}

const PROMISE = 'benchapp';

/** A Promise whose resource pipeline is one `sh` line writing the request's name and version. */
const benchPromise = (version: string) => shPromise({ name: PROMISE, version });

function requests(n: number): string {
  return Array.from({ length: n }, (_, i) => shRequest(PROMISE, `app-${i}`, `team-${i % 7}`)).join(
    '---\n',
  );
}

interface FleetFigures {
  n: number;
  createMs: number;
  upgradeMs: number;
  reapplyMs: number;
  floorMs: number;
  peakRssMiB: number;
  largestHistory: { events: number; workflow: string };
  floorLargestHistory: number;
  commits: number;
  atNewVersion: number;
  /** CPU seconds during the upgrade: Temporal server, worker, worker's children. */
  cpu: { server: number; worker: number; children: number };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** The worker as users run it: its own process (`promiseflow worker`), so its RSS is its own. */
function spawnWorker(config: PromiseflowConfig, dir: string): ChildProcess {
  const out = fs.openSync(path.join(dir, 'worker-process.log'), 'a');
  // PROMISEFLOW_BENCH_PROFILE=DIR: the worker writes a V8 CPU profile there when it stops.
  const profile = process.env.PROMISEFLOW_BENCH_PROFILE;
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : [];
  return spawn(
    process.execPath,
    [...nodeArgs, path.join(PROJECT_ROOT, 'bin', 'promiseflow'), 'worker'],
    {
      env: {
        ...process.env,
        PROMISEFLOW_DATA_DIR: config.dataDir,
        PROMISEFLOW_TEMPORAL_ADDRESS: config.temporal.address,
        PROMISEFLOW_TASK_QUEUE: config.temporal.taskQueue,
        PROMISEFLOW_LOG_LEVEL: 'warn',
      },
      cwd: dir,
      stdio: ['ignore', out, out],
    },
  );
}

/** CPU seconds a process used so far, its own and its reaped children's (git, bwrap). */
function cpuSeconds(pid: number): { own: number; children: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses.
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const tick = 100; // USER_HZ on Linux
  return { own: (f[11]! + f[12]!) / tick, children: (f[13]! + f[14]!) / tick };
}

/** Peak resident set of a live process (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

/** The longest closed history on a task queue, from visibility. */
async function largestHistory(
  temporal: Awaited<ReturnType<typeof connectClient>>,
  taskQueue: string,
): Promise<{ events: number; workflow: string }> {
  let best = { events: 0, workflow: '' };
  for await (const w of temporal.client.workflow.list({
    query: `TaskQueue = "${taskQueue}" AND ExecutionStatus != "Running"`,
  })) {
    if (w.historyLength > best.events) best = { events: w.historyLength, workflow: w.workflowId };
  }
  return best;
}

/** Resources whose file in the state store names them and the expected version. */
async function countAtVersion(repo: string, version: string, dir: string): Promise<number> {
  const checkout = path.join(dir, 'verify');
  // file://, not a bare path: a path clone copies object files, and the remote's own
  // background gc (after a push) may delete a loose one mid-copy.
  await simpleGit().clone(pathToFileURL(repo).href, checkout, ['--depth', '1', '--branch', 'main']);
  const atVersion = new Set<string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.git') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'config.yaml') {
        const text = fs.readFileSync(p, 'utf8');
        const name = /^name: (.+)$/m.exec(text)?.[1];
        if (name && new RegExp(`^version: ${version}$`, 'm').test(text)) atVersion.add(name);
      }
    }
  };
  walk(checkout);
  fs.rmSync(checkout, { recursive: true, force: true });
  return atVersion.size;
}

async function commitCount(repo: string): Promise<number> {
  return Number((await simpleGit().raw(['--git-dir', repo, 'rev-list', '--count', 'main'])).trim());
}

async function runFloor(server: DevServer, n: number, concurrency: number): Promise<number> {
  const taskQueue = `bench-floor-${n}-${process.pid}`;
  const connection = await NativeConnection.connect({ address: server.address });
  // The same worker limits as Promiseflow's (worker/worker.ts).
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./floor-workflows'),
    activities: { noop: async () => undefined },
    maxConcurrentActivityTaskExecutions: Math.max(8, concurrency + 4),
    maxCachedWorkflows: 200,
  });
  const temporal = await connectClient(
    resolveConfig({ temporalAddress: server.address, dataDir: os.tmpdir() }),
  );
  try {
    return await worker.runUntil(async () => {
      const start = process.hrtime.bigint();
      const input: FloorInput = { total: n, concurrency, perRun: 500, runId: taskQueue };
      await temporal.client.workflow.execute('floorFleet', {
        taskQueue,
        workflowId: `${taskQueue}-parent`,
        args: [input],
      });
      return since(start);
    });
  } finally {
    await temporal.close();
    await connection.close();
  }
}

async function fleetAt(server: DevServer, n: number): Promise<FleetFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `promiseflow-bench-fleet-${n}-`));
  const config = resolveConfig({
    dataDir: path.join(dir, 'data'),
    temporalAddress: server.address,
    taskQueue: `bench-fleet-${n}-${process.pid}`,
  });
  const worker = spawnWorker(config, dir);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const store = openSqlitePlatformStore(config.dataDir);
  const temporal = await connectClient(config);
  const client = new PromiseflowClient(config, store, temporal.client);
  const stateStore = await provisionStateStore('git', path.join(dir, 'state-store'));
  const repo = path.join(dir, 'state-store', 'state-store.git');
  const apply = async (text: string, file: string): Promise<number> => {
    const start = process.hrtime.bigint();
    const outcomes = await client.apply(parseKratixYaml(text, file), file);
    const failed = (
      await client.waitFor(outcomes.flatMap((o) => (o.workflow ? [o.workflow] : [])))
    ).filter((r) => !r.ok);
    if (failed.length > 0)
      throw new Error(`${file}: ${failed.length} failed: ${failed[0]!.message}`);
    return since(start);
  };
  try {
    await apply(stateStore.platformYaml, 'platform.yaml');
    await apply(benchPromise('v1'), 'promise-v1.yaml');
    const createMs = await apply(requests(n), 'fleet.yaml');
    const before = await commitCount(repo);
    const serverCpu = cpuSeconds(server.pid);
    const workerCpu = cpuSeconds(worker.pid!);
    const upgradeMs = await apply(benchPromise('v2'), 'promise-v2.yaml');
    const cpu = {
      server: cpuSeconds(server.pid).own - serverCpu.own,
      worker: cpuSeconds(worker.pid!).own - workerCpu.own,
      children: cpuSeconds(worker.pid!).children - workerCpu.children,
    };
    const commits = (await commitCount(repo)) - before;
    if (process.env.PROMISEFLOW_BENCH_TRACE) {
      const h = await temporal.client.workflow
        .getHandle(`resource-reconcile/${PROMISE}/default/app-${Math.floor(n / 2)}`)
        .fetchHistory();
      let t0 = 0;
      for (const e of h.events ?? []) {
        const t = Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
        t0 ||= t;
        const a = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
        console.log(`      ${(t - t0).toFixed(0).padStart(6)} ms  ${String(e.eventType)} ${a}`);
      }
    }
    // Applying the same Promise and the same N requests again changes nothing and starts nothing.
    const reapplyMs =
      (await apply(benchPromise('v2'), 'promise-v2.yaml')) +
      (await apply(requests(n), 'fleet.yaml'));
    const peakRss = peakRssMiB(worker.pid!);
    const atNewVersion = await countAtVersion(repo, 'v2', dir);
    const largest = await largestHistory(temporal, config.temporal.taskQueue);
    worker.kill('SIGTERM');
    await exited;
    const floorMs = await runFloor(server, n, config.updateConcurrency);
    const floorLargest = await largestHistory(temporal, `bench-floor-${n}-${process.pid}`);
    return {
      n,
      createMs,
      upgradeMs,
      reapplyMs,
      floorMs,
      peakRssMiB: peakRss,
      largestHistory: largest,
      floorLargestHistory: floorLargest.events,
      commits,
      atNewVersion,
      cpu,
    };
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
    await temporal.close();
    await store.close();
    await stateStore.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchFleet(): Promise<void> {
  const sizes = fleetSizes();
  installTemporalRuntime('ERROR');
  const base = resolveConfig({ dataDir: os.tmpdir() });
  const server = await startDevServer({ temporalBin: base.temporalBin, headless: true });
  const rows: FleetFigures[] = [];
  try {
    console.log(
      `\nFleet upgrade, one-line sh pipeline, local Git state store, concurrency ${base.updateConcurrency} (${os.cpus().length} cores):`,
    );
    for (const n of sizes) {
      const f = await fleetAt(server, n);
      rows.push(f);
      const rate = (ms: number) => (f.n / (ms / 1000)).toFixed(1);
      console.log(`  N = ${f.n}`);
      console.log(
        `    create ${f.n} requests (one apply):   ${seconds(f.createMs)} (${rate(f.createMs)}/s)`,
      );
      console.log(
        `    upgrade through Promiseflow:         ${seconds(f.upgradeMs)} (${rate(f.upgradeMs)} resources/s)`,
      );
      console.log(
        `    Temporal floor (child + no-op act.): ${seconds(f.floorMs)} (${rate(f.floorMs)}/s)`,
      );
      console.log(
        `    ratio upgrade/floor:                 ${(f.upgradeMs / f.floorMs).toFixed(2)}`,
      );
      console.log(
        `    CPU in the upgrade:                  Temporal ${f.cpu.server.toFixed(0)} s, worker ${f.cpu.worker.toFixed(0)} s, its git/pipelines ${f.cpu.children.toFixed(0)} s (of ${((f.upgradeMs / 1000) * os.cpus().length).toFixed(0)} s)`,
      );
      console.log(`    no-op re-apply (Promise + ${f.n} requests): ${seconds(f.reapplyMs)}`);
      console.log(`    peak worker RSS:                     ${f.peakRssMiB.toFixed(0)} MiB`);
      console.log(
        `    largest history:                     ${f.largestHistory.events} events (${f.largestHistory.workflow}); floor's ${f.floorLargestHistory}`,
      );
      console.log(`    state-store commits in the upgrade:  ${f.commits} for ${f.n} resources`);
      console.log(`    resources at v2 in the state store:  ${f.atNewVersion} of ${f.n}`);
      if (f.atNewVersion !== f.n) {
        throw new Error(`only ${f.atNewVersion} of ${f.n} resources at v2 in the state store`);
      }
    }
    if (rows.length > 1) {
      const first = rows[0]!;
      const last = rows[rows.length - 1]!;
      console.log(
        `  t(${last.n})/t(${first.n}): upgrade ${(last.upgradeMs / first.upgradeMs).toFixed(2)}, floor ${(last.floorMs / first.floorMs).toFixed(2)} (sizes ${(last.n / first.n).toFixed(0)}x)`,
      );
    }
  } finally {
    await server.stop();
  }
}
