/**
 * Runs each container of a Pipeline as a real OCI container with podman, as a Kratix Job
 * runs it as a Pod's container: in order, each with the run's /kratix/input (read-only, as
 * Kratix mounts it), /kratix/output and /kratix/metadata mounted, the KRATIX_* environment,
 * `command`/`args` as Kubernetes reads them, and `imagePullPolicy` mapped onto podman's
 * `--pull`. A container sees its image's root file system and its mounts, nothing of the
 * host; it gets no network (`--network=none`: pipelines here reach nothing, and no registry
 * credentials or platform APIs leak in), podman's default (reduced) capabilities, and no new
 * privileges.
 *
 * Images: a reference in the image table with `image:` runs that local image instead (the
 * examples' marketplace names map to `localhost/promiseflow-examples/...`, see
 * examples/images.yaml); any other reference runs as it is.
 *
 * Two quirks of some VMs are handled where they bite: the runtime cannot raise rlimits there,
 * so every container gets `--ulimit`s at or below the worker's own hard limits; and hybrid
 * cgroups need the hugetlb controller mounted as v1, which scripts/setup.sh does.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Container, ImagePullPolicy } from '../model/types';
import {
  collectResult,
  formatDuration,
  prepareRunDirs,
  captureOutput,
  DEFAULT_CONTAINER_TIMEOUT_MS,
  stringList,
  type RunDirs,
} from './contract';
import { runQuiet } from './run-quiet';
import { containerEnv } from './env';
import { lookupImage, type ImageTable } from './image-table';
import {
  PipelineFailedError,
  type ContainerRun,
  type PipelineRunner,
  type PipelineRunRequest,
  type PipelineRunResult,
} from './runner';
import { preparePipelineVolumes, type Mount } from './volumes';

export interface ContainerPipelineRunnerOptions {
  /** Maps image references to local images (`image:` entries); optional. */
  imageTable?: ImageTable;
  /** The engine's command; default `podman`. */
  engine?: string;
  logger?: (line: object) => void;
  /** Per container; default 10 minutes. */
  timeoutMs?: number;
}

/** Caps for the per-container rlimits (kept at or below the worker's hard limits). */
const NOFILE_CAP = 65_536;
const NPROC_CAP = 4_096;

const PULL: Record<ImagePullPolicy, string> = {
  Always: 'always',
  IfNotPresent: 'missing',
  Never: 'never',
};

export class ContainerPipelineRunner implements PipelineRunner {
  private readonly engine: string;
  private readonly timeoutMs: number;
  private ready?: Promise<string[]>;

  constructor(private readonly options: ContainerPipelineRunnerOptions = {}) {
    this.engine = options.engine ?? 'podman';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CONTAINER_TIMEOUT_MS;
  }

  async run(request: PipelineRunRequest): Promise<PipelineRunResult> {
    const pipelineName = request.pipeline.metadata?.name ?? '<unnamed pipeline>';
    const containers = request.pipeline.spec?.containers ?? [];
    const ulimits = await this.engineReady(pipelineName, containers[0]?.name ?? '<none>');
    const dirs = await prepareRunDirs(request);
    const volumes = await preparePipelineVolumes(request.pipeline, dirs, request, 'container');
    const runs: ContainerRun[] = [];
    try {
      for (const container of containers) {
        const env = containerEnv(pipelineName, container, request);
        const mounts = volumes.mountsFor(container);
        runs.push(await this.runContainer(pipelineName, container, env, dirs, mounts, ulimits));
      }
    } finally {
      await volumes.dispose();
    }
    return collectResult(pipelineName, containers.at(-1)?.name ?? '<no containers>', dirs, runs);
  }

  /** The local image a container runs, and how it may be pulled. */
  imageFor(container: Container): { image: string; pull: string } {
    const mapped = this.options.imageTable
      ? lookupImage(this.options.imageTable, container.image)?.image
      : undefined;
    const image = mapped ?? container.image;
    const policy = container.imagePullPolicy ?? defaultPullPolicy(container.image);
    return { image, pull: PULL[policy] };
  }

  /** The `podman run` arguments of one container (env values travel in the environment). */
  runArgs(
    name: string,
    container: Container,
    env: Record<string, string>,
    dirs: RunDirs,
    mounts: Mount[],
    ulimits: string[],
  ): string[] {
    const { image, pull } = this.imageFor(container);
    const command = stringList(container.command) ?? [];
    const args = stringList(container.args) ?? [];
    const out = [
      'run',
      '--rm',
      `--name=${name}`,
      '--network=none',
      '--security-opt=no-new-privileges',
      `--pull=${pull}`,
      '--log-driver=none',
      ...ulimits,
      '-v',
      `${dirs.input}:/kratix/input:ro`,
      '-v',
      `${dirs.output}:/kratix/output`,
      '-v',
      `${dirs.metadata}:/kratix/metadata`,
    ];
    for (const m of mounts)
      out.push('-v', `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`);
    // `-e NAME` takes the value from podman's environment: no secret on a command line.
    for (const key of Object.keys(env)) out.push('-e', key);
    // Kubernetes: `command` replaces ENTRYPOINT (and then the image's CMD is not used).
    if (command.length > 0) out.push(`--entrypoint=${JSON.stringify(command)}`);
    out.push(image, ...args);
    return out;
  }

  private async engineReady(pipeline: string, container: string): Promise<string[]> {
    this.ready ??= probeEngine(this.engine);
    try {
      return await this.ready;
    } catch (err) {
      this.ready = undefined; // a later run may find podman installed
      throw new PipelineFailedError(pipeline, container, (err as Error).message);
    }
  }

  private async runContainer(
    pipeline: string,
    container: Container,
    env: Record<string, string>,
    dirs: RunDirs,
    mounts: Mount[],
    ulimits: string[],
  ): Promise<ContainerRun> {
    const command = stringList(container.command);
    const args = stringList(container.args);
    if (command === null || args === null) {
      throw new PipelineFailedError(
        pipeline,
        container.name,
        'command and args must be lists of strings',
      );
    }
    const { image, pull } = this.imageFor(container);
    if (pull === 'never' && !(await imageExists(this.engine, image))) {
      throw new PipelineFailedError(
        pipeline,
        container.name,
        `image "${image}" is not present on this machine and imagePullPolicy is Never` +
          (image.startsWith('localhost/promiseflow-examples/')
            ? ' (scripts/build-images.sh builds it)'
            : ''),
      );
    }
    const name = `promiseflow-${randomUUID().slice(0, 12)}`;
    const child = spawn(this.engine, this.runArgs(name, container, env, dirs, mounts, ulimits), {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = captureOutput(child, (stream, line) => {
      try {
        this.options.logger?.({ pipeline, container: container.name, stream, line });
      } catch {
        // A broken logger must not fail the pipeline.
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void removeContainer(this.engine, name);
    }, this.timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    })
      .catch((err: Error) => {
        throw new PipelineFailedError(
          pipeline,
          container.name,
          `could not start ${this.engine}: ${err.message}`,
        );
      })
      .finally(() => clearTimeout(timer));
    output.flush();
    const logTail = output.tail();
    if (timedOut) {
      throw new PipelineFailedError(
        pipeline,
        container.name,
        `timed out after ${formatDuration(this.timeoutMs)}`,
        logTail,
      );
    }
    if (code !== 0) {
      // podman's own failures (image missing, runtime errors) exit 125-127.
      const reason =
        code !== null && code >= 125 && code <= 127
          ? `could not run image "${image}" (${this.engine} exit ${code})`
          : `exited with code ${code ?? 'unknown'}`;
      throw new PipelineFailedError(pipeline, container.name, reason, logTail);
    }
    return { name: container.name, image: container.image, exitCode: 0, logTail };
  }
}

/** Kubernetes' default: Always for `:latest` or no tag, else IfNotPresent. */
export function defaultPullPolicy(image: string): ImagePullPolicy {
  if (image.includes('@')) return 'IfNotPresent';
  const tagAt = image.indexOf(':', image.lastIndexOf('/') + 1);
  const tag = tagAt === -1 ? 'latest' : image.slice(tagAt + 1);
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Fails with what to do when the engine is missing; returns the `--ulimit` arguments. */
async function probeEngine(engine: string): Promise<string[]> {
  const { code, output } = await runQuiet(engine, ['version', '--format', '{{.Client.Version}}']);
  if (code !== 0) {
    throw new Error(
      code === -1 && /ENOENT/.test(output)
        ? `cannot run pipeline containers: ${engine} is not installed; install the podman package (scripts/setup.sh does) or use PROMISEFLOW_PIPELINE_RUNNER=local`
        : `cannot run pipeline containers: ${engine} does not work here: ${output.trim()}`,
    );
  }
  return ulimitArgs(await readFile('/proc/self/limits', 'utf8').catch(() => ''));
}

/** `--ulimit`s at or below this process's hard limits, so the runtime never raises one. */
export function ulimitArgs(procLimits: string): string[] {
  const hard = (label: string): number | undefined => {
    const line = procLimits.split('\n').find((l) => l.startsWith(label));
    const value = line?.slice(label.length).trim().split(/\s+/)[1];
    return value === undefined || value === 'unlimited' ? undefined : Number(value);
  };
  const limit = (name: string, label: string, cap: number): string[] => {
    const h = hard(label);
    const value = Math.min(h ?? cap, cap);
    return ['--ulimit', `${name}=${value}:${value}`];
  };
  return [
    ...limit('nofile', 'Max open files', NOFILE_CAP),
    ...limit('nproc', 'Max processes', NPROC_CAP),
  ];
}

async function imageExists(engine: string, image: string): Promise<boolean> {
  return (await runQuiet(engine, ['image', 'exists', image])).code === 0;
}

async function removeContainer(engine: string, name: string): Promise<void> {
  await runQuiet(engine, ['rm', '--force', '--time=0', name]);
}
