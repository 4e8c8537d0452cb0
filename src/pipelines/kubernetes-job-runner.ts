/**
 * Runs each Pipeline as a Kubernetes Job on a cluster with nodes (`--pipelines job`), built
 * by kubernetes-job.ts as Kratix builds it: the input ConfigMap, ServiceAccount and RBAC and
 * the Job are server-side applied (a retried activity finds its own Job: names are hashes of
 * the object and the pipeline), the Job is followed until it completes or fails, and the
 * `collect` container's log (a base64 tar of output/ and metadata/) is unpacked into the run
 * directory, where the same output checks as every runner apply. While it waits, the
 * reason (no Pod yet, not scheduled, which container runs) is logged and ends up in the
 * failure if the Job does not finish in time.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { BatchV1Api, CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { serverSideApply } from '../platform/kubernetes/object-api';
import {
  collectResult,
  DEFAULT_CONTAINER_TIMEOUT_MS,
  formatDuration,
  prepareRunDirs,
} from './contract';
import { jobOutcome } from './job-outcome';
import type { PodView } from './job-outcome';
import { buildPipelineJob, decodeCollectedLog } from './kubernetes-job';
import { PipelineFailedError } from './runner';
import type { ContainerRun, PipelineRunner, PipelineRunRequest, PipelineRunResult } from './runner';

export interface KubernetesJobRunnerOptions {
  kubeConfig: KubeConfig;
  /** Image with sh, cp, tar and base64 for the reader and collect containers. */
  helperImage?: string;
  /** Per pipeline; default 10 minutes. */
  timeoutMs?: number;
  /** How often the Job is looked at; default 2 s. */
  pollMs?: number;
  logger?: (line: object) => void;
}

export const DEFAULT_HELPER_IMAGE = 'docker.io/library/busybox:1.36';
const FIELD_MANAGER = 'promiseflow-pipelines';
const LOG_TAIL_LINES = 50;

export class KubernetesJobPipelineRunner implements PipelineRunner {
  private readonly objects: KubernetesObjectApi;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;

  constructor(private readonly options: KubernetesJobRunnerOptions) {
    this.objects = KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  async run(request: PipelineRunRequest): Promise<PipelineRunResult> {
    const pipelineName = request.pipeline.metadata?.name ?? '<unnamed pipeline>';
    const containers = request.pipeline.spec?.containers ?? [];
    const first = containers[0]?.name ?? '<no containers>';
    const dirs = await prepareRunDirs(request);
    const { namespace, job, objects } = buildPipelineJob(request, {
      helperImage: this.options.helperImage ?? DEFAULT_HELPER_IMAGE,
    });
    const name = job.metadata.name as string;
    for (const manifest of [...objects, job]) await this.apply(pipelineName, first, manifest);

    const timeoutMs = this.options.timeoutMs ?? DEFAULT_CONTAINER_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let lastWhy = '';
    for (;;) {
      const current = await this.batch.readNamespacedJob({ name, namespace });
      const pods = await this.core.listNamespacedPod({
        namespace,
        labelSelector: `job-name=${name}`,
      });
      const outcome = jobOutcome(current, pods.items.at(-1) as PodView | undefined);
      if (outcome.state === 'succeeded') {
        const log = await this.core.readNamespacedPodLog({
          name: outcome.pod,
          namespace,
          container: 'collect',
        });
        await untar(decodeCollectedLog(log), request.workDir);
        const runs: ContainerRun[] = containers.map((c) => ({
          name: c.name,
          image: c.image,
          exitCode: 0,
          logTail: '',
        }));
        return collectResult(pipelineName, containers.at(-1)?.name ?? first, dirs, runs);
      }
      if (outcome.state === 'failed') {
        const tail =
          outcome.pod && outcome.container
            ? await this.core
                .readNamespacedPodLog({
                  name: outcome.pod,
                  namespace,
                  container: outcome.container,
                  tailLines: LOG_TAIL_LINES,
                })
                .catch(() => '')
            : '';
        throw new PipelineFailedError(
          pipelineName,
          outcome.container ?? first,
          `Job ${namespace}/${name}: ${outcome.reason}`,
          tail,
        );
      }
      if (outcome.why !== lastWhy) {
        lastWhy = outcome.why;
        this.options.logger?.({ job: `${namespace}/${name}`, waiting: outcome.why });
      }
      if (Date.now() >= deadline) {
        throw new PipelineFailedError(
          pipelineName,
          first,
          `Job ${namespace}/${name} did not finish within ${formatDuration(timeoutMs)}: ${outcome.why}`,
        );
      }
      await sleep(this.options.pollMs ?? 2_000);
    }
  }

  private async apply(
    pipelineName: string,
    container: string,
    manifest: Record<string, unknown>,
  ): Promise<void> {
    try {
      await serverSideApply(this.objects, manifest, FIELD_MANAGER);
    } catch (err) {
      throw new PipelineFailedError(pipelineName, container, (err as Error).message);
    }
  }
}

/** Unpacks the collected tar (output/, metadata/) into the run directory with the system tar. */
async function untar(archive: Buffer, dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    // GNU tar refuses members that would land outside `dir` (`..`, absolute paths).
    const tar = spawn('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', dir], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    tar.on('error', reject);
    tar.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`tar: ${stderr.trim() || `exit ${code}`}`)),
    );
    tar.stdin.end(archive);
  });
}
