import { join } from 'node:path';
import { loadKratixFile } from '../../src/client/load-file';
import type { KratixObject, KratixPromise } from '../../src/model/types';
import { buildPipelineJob } from '../../src/pipelines/kubernetes-job';

/** The Job of test/fixtures/kratix-api's Promise for its request. */
const FIXTURES = join(__dirname, '..', 'fixtures', 'kratix-api');

export async function databaseJob() {
  const [promise] = (await loadKratixFile(join(FIXTURES, 'everything.yaml'), {
    onSkipped: () => {},
  })) as KratixPromise[];
  const [request] = (await loadKratixFile(join(FIXTURES, 'request.yaml'))) as KratixObject[];
  return buildPipelineJob(
    {
      pipeline: promise!.spec!.workflows!.resource!.configure![0]!,
      object: request!,
      action: 'configure',
      type: 'resource',
      promiseName: 'database',
      workDir: '/unused',
    },
    { helperImage: 'busybox:1.36', promise },
  );
}
