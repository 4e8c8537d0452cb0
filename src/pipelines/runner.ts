import type { DestinationSelector, KratixObject, Pipeline } from '../model/types';
import type { ResolvedRefs } from './env';
import { outputSummary, scrubSecrets } from './failure-output';

/** The Kratix container contract (behaviour §4): what one Pipeline run needs and yields. */
export interface PipelineRunRequest {
  pipeline: Pipeline;
  /** Written to /kratix/input/object.yaml. */
  object: KratixObject;
  action: 'configure' | 'delete';
  type: 'promise' | 'resource';
  promiseName: string;
  /** Host directory the run may use (input/, output/, metadata/ are created below it). */
  workDir: string;
  /**
   * The Secrets and ConfigMaps the pipeline refers to (env valueFrom/envFrom, volumes),
   * read by the caller from the platform store (env.ts `resolvePipelineRefs`).
   */
  resolved?: ResolvedRefs;
}

export interface ContainerRun {
  name: string;
  image: string;
  exitCode: number;
  /** Last lines of combined stdout/stderr (a failure message takes its last few). */
  logTail: string;
}

export interface PipelineRunResult {
  /** Host path of the run's /kratix/output. */
  outputDir: string;
  /** Parsed /kratix/metadata/status.yaml, if written. */
  status?: Record<string, unknown>;
  /** Parsed /kratix/metadata/destination-selectors.yaml, if written. */
  destinationSelectors?: DestinationSelector[];
  containers: ContainerRun[];
}

/**
 * Thrown when a container exits non-zero or breaks the output contract. The message ends
 * with the last lines of the container's output (the pipeline's own error), bounded and
 * scrubbed of credentials, because it reaches the activity failure, the request's
 * conditions, the update's progress and the CLI.
 */
export class PipelineFailedError extends Error {
  override readonly name = 'PipelineFailedError';
  /** Last lines of the container's output, credentials scrubbed. */
  readonly logTail: string;
  /** As captured: only for scrubbing known secret values later (never serialized). */
  readonly #capturedTail: string;

  constructor(
    readonly pipeline: string,
    readonly container: string,
    readonly reason: string,
    logTail = '',
    knownSecrets: string[] = [],
  ) {
    const scrubbed = scrubSecrets(logTail, knownSecrets);
    const output = outputSummary(scrubbed);
    super(
      `pipeline "${pipeline}" container "${container}" failed: ${reason}${output ? `: ${output}` : ''}`,
    );
    this.logTail = scrubbed;
    this.#capturedTail = logTail;
  }

  /** The same failure with these values (the pipeline's Secrets) masked too. */
  withSecretsMasked(values: string[]): PipelineFailedError {
    return new PipelineFailedError(
      this.pipeline,
      this.container,
      scrubSecrets(this.reason, values),
      this.#capturedTail,
      values,
    );
  }
}

export interface PipelineRunner {
  run(request: PipelineRunRequest): Promise<PipelineRunResult>;
}
