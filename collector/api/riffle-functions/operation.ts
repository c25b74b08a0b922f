/**
 * Riffle-only operations that manage hosted-function mappings at run time, under
 * `X-Amz-Target: RiffleFunctions_20250101.<Operation>` (JSON 1.1, signed as Kinesis calls; access
 * policies see `riffle:<Operation>`). A mapping is given exactly as a `functions` entry of the
 * collector config file; module paths are resolved against the data dir. Mappings of the config
 * file are listed but cannot be deleted through the API.
 */
import { AwsError } from '../../../shared/errors.js';
import type { EventSourceMapping, HostedFunctions, MappingOrigin } from '../../consumers/functions/index.js';
import type { KinesisContext } from '../kinesis/operation.js';

export const FUNCTIONS_TARGET_PREFIX = 'RiffleFunctions_20250101.';

export function hostedFunctions(ctx: KinesisContext): HostedFunctions {
  if (!ctx.functions) throw new AwsError('UnknownOperationException', '');
  return ctx.functions;
}

/** A mapping as the API shows it: Lambda's setting names, plus where it came from and whether it runs. */
export function mappingOutput(mapping: EventSourceMapping, origin: MappingOrigin): Record<string, unknown> {
  return {
    Name: mapping.name,
    StreamName: mapping.streamName,
    ...(mapping.target.kind === 'module' ? { Module: mapping.target.path, Handler: mapping.target.handler, MemoryMB: mapping.target.memoryMB } : { Url: mapping.target.url }),
    TimeoutSeconds: mapping.timeoutSeconds,
    BatchSize: mapping.batchSize,
    MaximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
    StartingPosition: mapping.startingPosition,
    ParallelizationFactor: mapping.parallelizationFactor,
    BisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
    MaximumRetryAttempts: mapping.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: mapping.maximumRecordAgeInSeconds,
    ...(mapping.onFailure !== undefined ? { DestinationConfig: { OnFailure: { Destination: mapping.onFailure } } } : {}),
    FunctionResponseTypes: mapping.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    TumblingWindowInSeconds: mapping.tumblingWindowInSeconds,
    FilterCount: mapping.filters.length,
    State: mapping.enabled ? 'Enabled' : 'Disabled',
    Origin: origin,
  };
}
