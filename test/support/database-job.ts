import { join } from 'node:path';
import { loadKratixFile } from '../../src/client/load-file';
import type { KratixObject, KratixPromise } from '../../src/model/types';
import { buildPipelineJob } from '../../src/pipelines/kubernetes-job';
import type { PipelineRunRequest } from '../../src/pipelines/runner';

/** The Job of test/fixtures/kratix-api's Promise for its request. */
const FIXTURES = join(__dirname, '..', 'fixtures', 'kratix-api');

/** The fixture Promise and the run request of its first resource configure pipeline. */
export async function databaseRun(workDir = '/unused') {
  const [promise] = (await loadKratixFile(join(FIXTURES, 'everything.yaml'), {
    onSkipped: () => {},
  })) as KratixPromise[];
  const [request] = (await loadKratixFile(join(FIXTURES, 'request.yaml'))) as KratixObject[];
  const run: PipelineRunRequest = {
    pipeline: promise!.spec!.workflows!.resource!.configure![0]!,
    object: request!,
    action: 'configure',
    type: 'resource',
    promiseName: 'database',
    workDir,
  };
  return { promise: promise!, run };
}

export async function databaseJob() {
  const { promise, run } = await databaseRun();
  return buildPipelineJob(run, { helperImage: 'busybox:1.36', promise });
}
