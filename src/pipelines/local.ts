/**
 * Runs Kratix pipelines as local processes instead of Pods.
 *
 * Each container runs in a bubblewrap sandbox (sandbox.ts) where the run's work directory is
 * mounted on `/kratix`, so unmodified pipeline scripts that write `/kratix/output/...` work,
 * concurrent runs never see each other's files (the host's `/kratix` stays empty), and
 * nothing a container writes outside `/kratix` reaches the host: the rest of the file
 * system is read-only, `/tmp` is private and discarded.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Container } from '../model/types';
import {
  captureOutput,
  collectResult,
  DEFAULT_CONTAINER_TIMEOUT_MS,
  formatDuration,
  prepareRunDirs,
  stringList,
} from './contract';
import { containerEnv } from './env';
import { lookupImage, type ImageTable } from './image-table';
import {
  PipelineFailedError,
  type ContainerRun,
  type PipelineRunner,
  type PipelineRunRequest,
  type PipelineRunResult,
} from './runner';
import { BWRAP, DEFAULT_WORKING_DIR, probeSandbox, sandboxArgs } from './sandbox';
import { preparePipelineVolumes, type Mount } from './volumes';

export { kratixEnv } from './contract';
export { findOutputViolation } from './output-check';
export { KRATIX_MOUNT_POINT } from './sandbox';

export interface LocalPipelineRunnerOptions {
  imageTable: ImageTable;
  /** Receives one structured entry per line of container output. */
  logger?: (line: object) => void;
  /** Per container; default 10 minutes. */
  timeoutMs?: number;
}

/** How long to wait for stray holders of the output pipes after the main process exited. */
const DRAIN_GRACE_MS = 2_000;

export class LocalPipelineRunner implements PipelineRunner {
  private readonly imageTable: ImageTable;
  private readonly logger?: (line: object) => void;
  private readonly timeoutMs: number;
  private sandboxReady?: Promise<void>;

  constructor(options: LocalPipelineRunnerOptions) {
    this.imageTable = options.imageTable;
    this.logger = options.logger;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CONTAINER_TIMEOUT_MS;
  }

  async run(request: PipelineRunRequest): Promise<PipelineRunResult> {
    const pipelineName = request.pipeline.metadata?.name ?? '<unnamed pipeline>';
    const containers = request.pipeline.spec?.containers ?? [];
    const workDir = path.resolve(request.workDir);
    const dirs = await prepareRunDirs(request);
    const volumes = await preparePipelineVolumes(request.pipeline, dirs, request, 'local');
    const runs: ContainerRun[] = [];
    try {
      for (const container of containers) {
        const name = container.name ?? '<unnamed container>';
        const argv = this.resolveArgv(pipelineName, container);
        const env = { ...baseEnv(), ...containerEnv(pipelineName, container, request) };
        const mounts = volumes.mountsFor(container);
        await this.sandboxSupport(pipelineName, name);
        // A container may have removed a shared dir; Kubernetes volumes would still be there.
        for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });

        const run = await this.runProcess(pipelineName, container, argv, env, workDir, mounts);
        runs.push(run);
      }
    } finally {
      await volumes.dispose();
    }
    return collectResult(pipelineName, containers.at(-1)?.name ?? '<no containers>', dirs, runs);
  }

  /** Kubernetes semantics: `command` replaces the entrypoint; `args` replaces the image's CMD. */
  private resolveArgv(pipeline: string, container: Container): string[] {
    const name = container.name;
    const command = stringList(container.command);
    const args = stringList(container.args);
    if (command === null || args === null) {
      throw new PipelineFailedError(pipeline, name, 'command and args must be lists of strings');
    }
    if (command.length > 0) return [...command, ...args];
    const entry = lookupImage(this.imageTable, container.image);
    if (!entry?.program) {
      throw new PipelineFailedError(
        pipeline,
        name,
        `image "${container.image}" is not in the image table (${this.imageTable.file}); ` +
          'add it there or give the container a command',
      );
    }
    return [entry.program, ...(args.length > 0 ? args : entry.args)];
  }

  /** Checked once per runner: a clear error beats every container failing with exit 1. */
  private async sandboxSupport(pipeline: string, container: string): Promise<void> {
    this.sandboxReady ??= probeSandbox();
    try {
      await this.sandboxReady;
    } catch (err) {
      this.sandboxReady = undefined; // let a later run retry (e.g. after bwrap was installed)
      throw new PipelineFailedError(pipeline, container, (err as Error).message);
    }
  }

  private async runProcess(
    pipeline: string,
    container: Container,
    argv: string[],
    env: Record<string, string>,
    workDir: string,
    mounts: Mount[],
  ): Promise<ContainerRun> {
    const name = container.name;
    // Kubernetes `workingDir` is a path inside the container, so it is applied in the sandbox.
    const cwd =
      typeof container.workingDir === 'string' ? container.workingDir : DEFAULT_WORKING_DIR;
    const args = sandboxArgs({
      workDir,
      cwd,
      // Programs kept under /tmp (an image table's, a command's) stay visible, read-only,
      // through the container's private /tmp.
      keepVisible: [
        path.dirname(this.imageTable.file),
        ...(path.isAbsolute(argv[0] ?? '') ? [path.dirname(argv[0]!)] : []),
      ],
      mounts,
      argv,
    });
    const child = spawn(
      BWRAP,
      args,
      // detached: own process group, so a timeout can kill everything the container started
      // (bwrap keeps it: without --new-session every sandboxed process stays in the group).
      { cwd: '/', env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = captureOutput(child, (stream, line) =>
      this.log({ pipeline, container: name, stream, line }),
    );

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, this.timeoutMs);

    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          // Like a Pod's container: when the main process ends, whatever it left running dies.
          killGroup(child.pid);
          const drained = new Promise<void>((r) => child.once('close', () => r()));
          const grace = new Promise<void>((r) => setTimeout(r, DRAIN_GRACE_MS).unref());
          void Promise.race([drained, grace]).then(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            resolve({ code, signal });
          });
        });
      },
    ).catch((err: Error) => {
      clearTimeout(timer);
      throw new PipelineFailedError(pipeline, name, `could not start: ${err.message}`);
    });
    output.flush();

    const logTail = output.tail();
    if (timedOut) {
      throw new PipelineFailedError(
        pipeline,
        name,
        `timed out after ${formatDuration(this.timeoutMs)}`,
        logTail,
      );
    }
    if (outcome.code !== 0) {
      const reason =
        outcome.code === null
          ? `killed by signal ${outcome.signal ?? 'unknown'}`
          : `exited with code ${outcome.code}`;
      throw new PipelineFailedError(pipeline, name, reason, logTail);
    }
    return { name, image: container.image, exitCode: 0, logTail };
  }

  private log(entry: object): void {
    if (!this.logger) return;
    try {
      this.logger(entry);
    } catch {
      // A broken logger must not fail the pipeline.
    }
  }
}

/** What every container inherits from the worker: a minimal base, nothing secret. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, osConstants.signals.SIGKILL);
  } catch {
    // ESRCH: the group is already gone.
  }
}
