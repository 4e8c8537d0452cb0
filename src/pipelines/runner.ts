import type { DestinationSelector, KratixObject, Pipeline } from '../model/types';

/** The Kratix container contract (SPEC §4): what one Pipeline run needs and yields. */
export interface PipelineRunRequest {
  pipeline: Pipeline;
  /** Written to /kratix/input/object.yaml. */
  object: KratixObject;
  action: 'configure' | 'delete';
  type: 'promise' | 'resource';
  promiseName: string;
  /** Host directory the run may use (input/, output/, metadata/ are created below it). */
  workDir: string;
}

export interface ContainerRun {
  name: string;
  image: string;
  exitCode: number;
  /** Last lines of combined stdout/stderr. */
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

/** Thrown when a container exits non-zero or breaks the output contract. */
export class PipelineFailedError extends Error {
  override readonly name = 'PipelineFailedError';
  constructor(
    readonly pipeline: string,
    readonly container: string,
    readonly reason: string,
    readonly logTail = '',
  ) {
    super(`pipeline "${pipeline}" container "${container}" failed: ${reason}`);
  }
}

export interface PipelineRunner {
  run(request: PipelineRunRequest): Promise<PipelineRunResult>;
}
