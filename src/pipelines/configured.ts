import type { Logger } from 'pino';
import type { PromiseflowConfig } from '../config';
import { loadKubeConfig } from '../platform/kubernetes/store';
import { ContainerPipelineRunner } from './container';
import { loadImageTable } from './image-table';
import { KubernetesJobPipelineRunner } from './kubernetes-job-runner';
import { LocalPipelineRunner } from './local';
import type { PipelineRunner } from './runner';

/** The configured runner: local processes (default), podman containers or Kubernetes Jobs. */
export async function configuredPipelineRunner(
  config: PromiseflowConfig,
  logger: Logger,
): Promise<PipelineRunner> {
  const options = {
    imageTable: await loadImageTable(config.imageTable),
    logger: (line: object) => logger.debug(line, 'pipeline output'),
  };
  switch (config.pipelineRunner) {
    case 'container':
      return new ContainerPipelineRunner(options);
    case 'job':
      // The cluster the platform is on (or KUBECONFIG / in-cluster), as kubectl finds it.
      return new KubernetesJobPipelineRunner({
        kubeConfig: loadKubeConfig(
          config.platform.store === 'kubernetes' ? config.platform.kubeconfig : undefined,
        ),
        ...(process.env.PROMISEFLOW_JOB_HELPER_IMAGE
          ? { helperImage: process.env.PROMISEFLOW_JOB_HELPER_IMAGE }
          : {}),
        logger: options.logger,
      });
    default:
      return new LocalPipelineRunner(options);
  }
}
