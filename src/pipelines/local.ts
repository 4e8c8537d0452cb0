/**
 * Runs Kratix pipelines as local processes instead of Pods.
 *
 * Each container is a process in its own mount namespace where the run's work directory is
 * bind-mounted on `/kratix`, so unmodified pipeline scripts that write `/kratix/output/...`
 * work, and concurrent runs never see each other's files (the host's `/kratix` stays empty).
 * This is contract emulation, not a sandbox: the process runs as the engine's user.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants, tmpdir } from 'node:os';
import type { Stats } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import YAML from 'yaml';
import type { Container, DestinationSelector, KratixObject } from '../model/types';
import { lookupImage, type ImageTable } from './image-table';
import {
  PipelineFailedError,
  type ContainerRun,
  type PipelineRunner,
  type PipelineRunRequest,
  type PipelineRunResult,
} from './runner';

export interface LocalPipelineRunnerOptions {
  imageTable: ImageTable;
  /** Receives one structured entry per line of container output. */
  logger?: (line: object) => void;
  /** Per container; default 10 minutes. */
  timeoutMs?: number;
}

export const KRATIX_MOUNT_POINT = '/kratix';
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const LOG_TAIL_LINES = 50;
const MAX_LINE_CHARS = 4096;
/** How long to wait for stray holders of the output pipes after the main process exited. */
const DRAIN_GRACE_MS = 2_000;

/**
 * Runs inside the new mount namespace: `$0` = host dir for /kratix, `$1` = cwd, rest = argv.
 * `exec` keeps the program as the process-group leader we signal.
 */
const NAMESPACE_WRAPPER = [
  `mount --bind "$0" ${KRATIX_MOUNT_POINT} || {`,
  `  echo "promiseflow: cannot bind-mount $0 on ${KRATIX_MOUNT_POINT}" >&2; exit 125; }`,
  'cd "$1" || exit 125',
  'shift',
  'exec "$@"',
].join('\n');

export class LocalPipelineRunner implements PipelineRunner {
  private readonly imageTable: ImageTable;
  private readonly logger?: (line: object) => void;
  private readonly timeoutMs: number;
  private namespaceArgs?: Promise<string[]>;

  constructor(options: LocalPipelineRunnerOptions) {
    this.imageTable = options.imageTable;
    this.logger = options.logger;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async run(request: PipelineRunRequest): Promise<PipelineRunResult> {
    const pipelineName = request.pipeline.metadata?.name ?? '<unnamed pipeline>';
    const containers = request.pipeline.spec?.containers ?? [];
    const workDir = path.resolve(request.workDir);
    const dirs = {
      input: path.join(workDir, 'input'),
      output: path.join(workDir, 'output'),
      metadata: path.join(workDir, 'metadata'),
    };

    // Start clean: a retried activity must not pick up a failed attempt's output.
    for (const dir of Object.values(dirs)) await rm(dir, { recursive: true, force: true });
    for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
    // Written once, as Kratix's reader does; later containers see what earlier ones left.
    await writeFile(path.join(dirs.input, 'object.yaml'), YAML.stringify(request.object));

    const runs: ContainerRun[] = [];
    for (const container of containers) {
      const name = container.name ?? '<unnamed container>';
      const argv = this.resolveArgv(pipelineName, container);
      const env = buildEnv(pipelineName, container, request);
      const nsArgs = await this.namespaceSupport(pipelineName, name);
      // A container may have removed a shared dir; Kubernetes volumes would still be there.
      for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });

      const run = await this.runProcess(pipelineName, container, argv, env, nsArgs, workDir);
      runs.push(run);
    }

    const lastContainer = containers.at(-1)?.name ?? '<no containers>';
    const fail = (reason: string): never => {
      throw new PipelineFailedError(pipelineName, lastContainer, reason, runs.at(-1)?.logTail);
    };
    const violation = await findOutputViolation(dirs.output);
    if (violation) fail(violation);

    const status = await readMetadata(dirs.metadata, 'status.yaml', fail);
    if (status !== undefined && !isRecord(status)) {
      fail(`metadata/status.yaml must be a YAML mapping, got ${describe(status)}`);
    }
    const selectorsDoc = await readMetadata(dirs.metadata, 'destination-selectors.yaml', fail);
    const destinationSelectors =
      selectorsDoc === undefined ? undefined : parseSelectors(selectorsDoc, fail);

    const result: PipelineRunResult = { outputDir: dirs.output, containers: runs };
    if (isRecord(status)) result.status = status;
    if (destinationSelectors) result.destinationSelectors = destinationSelectors;
    return result;
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
    if (!entry) {
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
  private async namespaceSupport(pipeline: string, container: string): Promise<string[]> {
    this.namespaceArgs ??= probeNamespaceArgs();
    try {
      return await this.namespaceArgs;
    } catch (err) {
      this.namespaceArgs = undefined; // let a later run retry (e.g. after /kratix was created)
      throw new PipelineFailedError(pipeline, container, (err as Error).message);
    }
  }

  private runProcess(
    pipeline: string,
    container: Container,
    argv: string[],
    env: Record<string, string>,
    nsArgs: string[],
    workDir: string,
  ): Promise<ContainerRun> {
    const name = container.name;
    return withScratchDir(async (scratch) => {
      // Kubernetes `workingDir` is a path inside the container, so it is applied after the mount.
      const cwd = typeof container.workingDir === 'string' ? container.workingDir : scratch;
      const child = spawn(
        'unshare',
        [...nsArgs, '--', '/bin/sh', '-c', NAMESPACE_WRAPPER, workDir, cwd, ...argv],
        // detached: own process group, so a timeout can kill everything the container started.
        { cwd: scratch, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const tail: string[] = [];
      const onLine = (stream: string, line: string): void => {
        const clipped = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
        tail.push(clipped);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
        this.log({ pipeline, container: name, stream, line: clipped });
      };
      const flushers = [
        splitLines(child.stdout, (l) => onLine('stdout', l)),
        splitLines(child.stderr, (l) => onLine('stderr', l)),
      ];

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
      for (const flush of flushers) flush();

      const logTail = tail.join('\n');
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
    });
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

/** Env of a container: a minimal inherited base, the container's own env, then Kratix's. */
function buildEnv(
  pipeline: string,
  container: Container,
  request: PipelineRunRequest,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  for (const entry of container.env ?? []) {
    if ((entry as Record<string, unknown>).valueFrom !== undefined) {
      // Silently passing an empty secret would be worse than refusing.
      throw new PipelineFailedError(
        pipeline,
        container.name,
        `env "${entry.name}" uses valueFrom, which the local runner does not support`,
      );
    }
    env[entry.name] = entry.value ?? '';
  }
  // The contract's variables win over a container's env of the same name.
  return { ...env, ...kratixEnv(pipeline, request) };
}

export function kratixEnv(pipeline: string, request: PipelineRunRequest): Record<string, string> {
  const object: KratixObject = request.object;
  const apiVersion = object.apiVersion ?? '';
  const slash = apiVersion.lastIndexOf('/');
  return {
    KRATIX_WORKFLOW_ACTION: request.action,
    KRATIX_WORKFLOW_TYPE: request.type,
    KRATIX_PROMISE_NAME: request.promiseName,
    KRATIX_PIPELINE_NAME: pipeline,
    KRATIX_OBJECT_KIND: object.kind ?? '',
    // Core objects (`v1`) have no group.
    KRATIX_OBJECT_GROUP: slash === -1 ? '' : apiVersion.slice(0, slash),
    KRATIX_OBJECT_VERSION: slash === -1 ? apiVersion : apiVersion.slice(slash + 1),
    KRATIX_OBJECT_NAME: object.metadata?.name ?? '',
    KRATIX_OBJECT_NAMESPACE: object.metadata?.namespace ?? '',
  };
}

/** First form that can create a private mount namespace and bind on /kratix here. */
async function probeNamespaceArgs(): Promise<string[]> {
  await ensureMountPoint();
  const candidates = [
    ['--mount', '--propagation', 'private'],
    // Non-root development machines: an unprivileged user namespace owns the mount namespace.
    ['--user', '--map-root-user', '--mount', '--propagation', 'private'],
  ];
  const failures: string[] = [];
  const probeDir = await mkdtemp(path.join(tmpdir(), 'promiseflow-probe-'));
  try {
    for (const args of candidates) {
      const probe = `mount --bind "$0" ${KRATIX_MOUNT_POINT}`;
      const { code, output } = await runQuiet('unshare', [
        ...args,
        '--',
        '/bin/sh',
        '-c',
        probe,
        probeDir,
      ]);
      if (code === 0) return args;
      failures.push(`unshare ${args.join(' ')}: ${output.trim() || `exit ${code}`}`);
    }
  } finally {
    await rm(probeDir, { recursive: true, force: true });
  }
  throw new Error(
    `cannot give containers a private ${KRATIX_MOUNT_POINT} (needs root or unprivileged user ` +
      `namespaces, and util-linux unshare): ${failures.join('; ')}`,
  );
}

async function ensureMountPoint(): Promise<void> {
  try {
    await mkdir(KRATIX_MOUNT_POINT, { recursive: true });
  } catch {
    // Reported below if it really is missing.
  }
  const st = await stat(KRATIX_MOUNT_POINT).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new Error(
      `mount point ${KRATIX_MOUNT_POINT} does not exist; create it once as root ` +
        '(scripts/setup.sh does)',
    );
  }
}

function runQuiet(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ code: -1, output: err.message }));
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, osConstants.signals.SIGKILL);
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function withScratchDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'promiseflow-container-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Calls onLine per complete line; the returned function flushes a final unterminated line. */
function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): () => void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      onLine(pending.slice(0, nl).replace(/\r$/, ''));
      pending = pending.slice(nl + 1);
    }
  });
  return () => {
    pending += decoder.end();
    if (pending !== '') onLine(pending);
    pending = '';
  };
}

/**
 * Output must be plain files and directories inside output/. Relative symlinks are tolerated
 * only when they resolve to a regular file inside output/ (directory links could loop).
 * Returns the first violation, or undefined.
 */
export async function findOutputViolation(outputDir: string): Promise<string | undefined> {
  const rootStat = await lstat(outputDir).catch(() => undefined);
  if (!rootStat?.isDirectory()) return `${KRATIX_MOUNT_POINT}/output is no longer a directory`;
  const root = await realpath(outputDir);

  const walk = async (dir: string, rel: string): Promise<string | undefined> => {
    const entries = await readdir(dir);
    entries.sort();
    for (const entry of entries) {
      const full = path.join(dir, entry);
      const shown = `output/${rel}${entry}`;
      const st = await lstat(full);
      if (st.isDirectory()) {
        const inner = await walk(full, `${rel}${entry}/`);
        if (inner) return inner;
      } else if (st.isSymbolicLink()) {
        const problem = await checkSymlink(full, root);
        if (problem) return `${shown}: ${problem}`;
      } else if (!st.isFile()) {
        return `${shown}: not a regular file or directory (${fileKind(st)})`;
      }
    }
    return undefined;
  };
  return walk(outputDir, '');
}

async function checkSymlink(link: string, root: string): Promise<string | undefined> {
  const target = await readlink(link);
  if (path.isAbsolute(target)) return `absolute symlink (-> ${target}) is not allowed`;
  const resolved = await realpath(link).catch(() => undefined);
  if (resolved === undefined) return `dangling symlink (-> ${target})`;
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    return `symlink points outside ${KRATIX_MOUNT_POINT}/output (-> ${target})`;
  }
  const st = await stat(resolved);
  if (!st.isFile()) return `symlink to something other than a regular file (-> ${target})`;
  return undefined;
}

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'unknown type';
}

/** Parsed metadata file, or undefined when absent or empty. */
async function readMetadata(
  metadataDir: string,
  file: string,
  fail: (reason: string) => never,
): Promise<unknown> {
  const full = path.join(metadataDir, file);
  const st = await lstat(full).catch(() => undefined);
  if (!st) return undefined;
  // Following a link here could pull any host file into the object's status.
  if (!st.isFile()) fail(`metadata/${file} must be a regular file`);
  const text = await readFile(full, 'utf8');
  try {
    return YAML.parse(text) ?? undefined;
  } catch (err) {
    return fail(`metadata/${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

function parseSelectors(doc: unknown, fail: (reason: string) => never): DestinationSelector[] {
  const file = 'metadata/destination-selectors.yaml';
  if (!Array.isArray(doc)) return fail(`${file} must be a YAML list, got ${describe(doc)}`);
  return doc.map((item: unknown, i) => {
    const where = `${file}[${i}]`;
    if (!isRecord(item)) return fail(`${where} must be a mapping, got ${describe(item)}`);
    const selector: DestinationSelector = {};
    if (item.directory !== undefined && item.directory !== null) {
      const dir = item.directory;
      if (typeof dir !== 'string' || path.isAbsolute(dir) || dir.split('/').includes('..')) {
        fail(`${where}.directory must be a relative path inside output/, got ${describe(dir)}`);
      }
      selector.directory = dir;
    }
    if (item.matchLabels !== undefined && item.matchLabels !== null) {
      if (!isRecord(item.matchLabels)) {
        fail(`${where}.matchLabels must be a mapping, got ${describe(item.matchLabels)}`);
      }
      const labels: Record<string, string> = {};
      for (const [key, value] of Object.entries(item.matchLabels)) {
        if (typeof value !== 'string') {
          fail(`${where}.matchLabels.${key} must be a string (quote it), got ${describe(value)}`);
        }
        labels[key] = value;
      }
      selector.matchLabels = labels;
    }
    return selector;
  });
}

function stringList(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
