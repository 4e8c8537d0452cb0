import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PromiseflowClient } from '../../src/client/platform-client';
import { resolveConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { loadImageTable } from '../../src/pipelines/image-table';
import { LocalPipelineRunner } from '../../src/pipelines/local';
import { openSqlitePlatformStore } from '../../src/platform/sqlite';
import { provisionStateStore } from '../servers/state-store-backends';
import { connectClient } from '../../src/temporal/client';
import { startDevServer } from '../servers/temporal-dev-server';
import type { KratixObject, KratixPromise } from '../../src/model/types';
import { parseKratixYaml } from '../../src/model/load';
import { nestedPlacementDirectory } from '../../src/model/paths';
import { createStateStoreWriter } from '../../src/statestores/factory';
import type { Destination, StateStore } from '../../src/model/types';
import { installTemporalRuntime } from '../../src/worker/runtime';
import { createPromiseflowWorker } from '../../src/worker/worker';
import { PROJECT_ROOT } from '../../src/config';

const FLEET = 60;

/**
 * A fleet upgrade through Promiseflow (Temporal workflows, concurrency 10) against the
 * same work done by a plain sequential loop (run the pipeline, write the state store),
 * measured in one run: resources/s for each and the ratio.
 */
export async function benchFleetUpgrade(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promiseflow-bench-fleet-'));
  const base = resolveConfig({ dataDir: path.join(dir, 'data') });
  const server = await startDevServer({ temporalBin: base.temporalBin, headless: true });
  const config = resolveConfig({
    dataDir: path.join(dir, 'data'),
    temporalAddress: server.address,
    concurrency: 10,
  });
  installTemporalRuntime('ERROR');
  const worker = await createPromiseflowWorker(
    config,
    createLogger({ file: path.join(dir, 'worker.log') }),
  );
  const running = worker.run();
  const store = openSqlitePlatformStore(config.dataDir);
  const temporal = await connectClient(config);
  const client = new PromiseflowClient(config, store, temporal.client);
  const stateStore = await provisionStateStore('git', path.join(dir, 'engine-store'));
  const read = (f: string) =>
    fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'mongodb', f), 'utf8');
  try {
    const apply = async (text: string, file: string) => {
      const outcomes = await client.apply(parseKratixYaml(text, file), file);
      const failed = (
        await client.waitFor(outcomes.flatMap((o) => (o.workflow ? [o.workflow] : [])))
      ).filter((r) => !r.ok);
      if (failed.length > 0) throw new Error(`${file}: ${failed[0]!.message}`);
    };
    await apply(stateStore.platformYaml, 'platform.yaml');
    await apply(read('promise.yaml'), 'promise.yaml');
    const requests = Array.from(
      { length: FLEET },
      (_, i) =>
        `apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: db-${i}\nspec:\n  majorVersion: "${4 + (i % 3)}"\n`,
    ).join('---\n');
    await apply(requests, 'fleet.yaml');

    // Promiseflow: one Promise update re-running the whole fleet.
    const engineStart = process.hrtime.bigint();
    await apply(read('promise-v0.2.0.yaml'), 'promise-v0.2.0.yaml');
    const engineMs = Number(process.hrtime.bigint() - engineStart) / 1e6;

    // Baseline: the same pipelines and writes in a plain loop, no durability.
    const runner = new LocalPipelineRunner({ imageTable: await loadImageTable(config.imageTable) });
    const promise = parseKratixYaml(read('promise-v0.2.0.yaml'), 'promise')[0] as KratixPromise;
    const pipeline = promise.spec!.workflows!.resource!.configure![0]!;
    const rawStore = await provisionStateStore('git', path.join(dir, 'raw-store'));
    const gitStore = parseKratixYaml(rawStore.platformYaml, 'p').find(
      (o) => o.kind === 'GitStateStore',
    ) as StateStore;
    const destination = parseKratixYaml(rawStore.platformYaml, 'p').find(
      (o) => o.metadata.name === 'worker-1',
    ) as Destination;
    const writer = createStateStoreWriter(gitStore, undefined, {
      cacheDir: path.join(dir, 'raw-cache'),
    });
    const objects = parseKratixYaml(requests, 'fleet.yaml').map((o): KratixObject => ({
      ...o,
      metadata: { ...o.metadata, namespace: 'default' },
    }));
    const rawStart = process.hrtime.bigint();
    for (const object of objects) {
      const workDir = path.join(dir, 'raw-runs', object.metadata.name);
      fs.mkdirSync(workDir, { recursive: true });
      const result = await runner.run({
        pipeline,
        object,
        action: 'configure',
        type: 'resource',
        promiseName: 'mongodb',
        workDir,
      });
      const files = fs.readdirSync(result.outputDir).map((f) => ({
        path: f,
        content: fs.readFileSync(path.join(result.outputDir, f), 'utf8'),
      }));
      const spec = {
        source: 'resource' as const,
        promiseName: 'mongodb',
        pipelineName: pipeline.metadata.name,
        resourceName: object.metadata.name,
        resourceNamespace: 'default',
        replicas: 'one' as const,
        workloadGroups: [],
      };
      await writer.update({
        message: `Update from: ${object.metadata.name}`,
        replaceDirs: [
          { dir: nestedPlacementDirectory(destination, gitStore, spec, '5058f'), files },
        ],
      });
    }
    const rawMs = Number(process.hrtime.bigint() - rawStart) / 1e6;
    await writer.close();
    await rawStore.stop();

    const perSec = (ms: number) => (FLEET / (ms / 1000)).toFixed(1);
    console.log(`\nFleet upgrade of ${FLEET} resources (pipeline + Git write each), one run:`);
    console.log(
      `  Promiseflow update (Temporal, concurrency 10): ${perSec(engineMs)} resources/s (${(engineMs / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  plain sequential loop (runner + writer):      ${perSec(rawMs)} resources/s (${(rawMs / 1000).toFixed(1)} s)`,
    );
    console.log(`  ratio engine/loop: ${(rawMs / engineMs).toFixed(2)}`);
  } finally {
    await worker.shutdown();
    await running;
    await temporal.close();
    await store.close();
    await stateStore.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
