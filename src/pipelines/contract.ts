/**
 * The parts of the Kratix container contract (behaviour §4) every runner shares: the run's
 * input/output/metadata directories, the KRATIX_* environment, and reading back what the
 * pipeline left (output path checks, status.yaml, destination-selectors.yaml).
 */
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import YAML from 'yaml';
import type { DestinationSelector, KratixObject } from '../model/types';
import { findOutputViolation } from './output-check';
import type { ContainerRun, PipelineRunRequest, PipelineRunResult } from './runner';
import { PipelineFailedError } from './runner';

export interface RunDirs {
  input: string;
  output: string;
  metadata: string;
}

/** Fresh input/, output/, metadata/ below the work dir, with /kratix/input/object.yaml. */
export async function prepareRunDirs(request: PipelineRunRequest): Promise<RunDirs> {
  const workDir = path.resolve(request.workDir);
  const dirs: RunDirs = {
    input: path.join(workDir, 'input'),
    output: path.join(workDir, 'output'),
    metadata: path.join(workDir, 'metadata'),
  };
  // Start clean: a retried activity must not pick up a failed attempt's output.
  for (const dir of Object.values(dirs)) await rm(dir, { recursive: true, force: true });
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  // Written once, as Kratix's reader does; later containers see what earlier ones left.
  await writeFile(path.join(dirs.input, 'object.yaml'), YAML.stringify(request.object));
  return dirs;
}

/** Output checks and metadata of a finished run; throws PipelineFailedError on a breach. */
export async function collectResult(
  pipelineName: string,
  lastContainer: string,
  dirs: RunDirs,
  runs: ContainerRun[],
): Promise<PipelineRunResult> {
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

/** The contract's variables, as Kratix's `defaultEnvVars` sets them. */
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

/** Per container, unless a runner is told otherwise. */
export const DEFAULT_CONTAINER_TIMEOUT_MS = 10 * 60_000;
const LOG_TAIL_LINES = 50;
const MAX_LINE_CHARS = 4096;

/**
 * A container's output, line by line: each line (clipped) goes to `log`, and the last
 * lines are kept for the failure message. `flush` after the process ended.
 */
export function captureOutput(
  child: { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream },
  log: (stream: 'stdout' | 'stderr', line: string) => void,
): { flush: () => void; tail: () => string } {
  const tail: string[] = [];
  const onLine = (stream: 'stdout' | 'stderr', line: string): void => {
    const clipped = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
    tail.push(clipped);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    log(stream, clipped);
  };
  const flushers = [
    splitLines(child.stdout, (l) => onLine('stdout', l)),
    splitLines(child.stderr, (l) => onLine('stderr', l)),
  ];
  return { flush: () => flushers.forEach((f) => f()), tail: () => tail.join('\n') };
}

/** Calls onLine per complete line; the returned function flushes a final unterminated line. */
export function splitLines(
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void,
): () => void {
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

export function stringList(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : null;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
