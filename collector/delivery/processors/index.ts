/**
 * ProcessingConfiguration: the processors a destination runs on each batch before delivery.
 * Each processor type is a spec (parameter checks at CreateDeliveryStream/UpdateDestination)
 * plus a factory, registered here. Whatever order the configuration lists them in, they run in
 * Firehose's pipeline order: Decompression → RecordDeAggregation → Lambda → MetadataExtraction
 * → AppendDelimiterToRecord.
 *
 * A processor returns the records that go on and the ones that failed; failed records go to the
 * error output as `processing-failed` with their original bytes.
 */
import type { Clock } from '../../../shared/clock.js';
import { AwsError } from '../../../shared/errors.js';
import type { DeliveryRecord, ProcessingConfiguration } from '../destinations/destination.js';
import type { FailedRecord } from '../error-records.js';
import { appendDelimiterProcessor } from './append-delimiter.js';
import { decompressionProcessor } from './decompression.js';
import { lambdaProcessor } from './lambda.js';
import { metadataExtractionProcessor } from './metadata-extraction.js';
import { recordDeAggregationProcessor } from './record-deaggregation.js';

/** A record on its way through the processors; `original` is what the error output shows. */
export interface ProcessingRecord extends DeliveryRecord {
  original: Buffer;
}

export interface ProcessingResult {
  records: ProcessingRecord[];
  failed: FailedRecord[];
}

export interface ProcessingContext {
  clock: Clock;
  deliveryStreamName: string;
  deliveryStreamArn: string;
  region: string;
  /** Where `arn:aws:lambda:…:function:<name>` modules live: `<data-dir>/functions/`. */
  functionsDir: string;
}

export interface Processor {
  process(records: ProcessingRecord[], context: ProcessingContext): Promise<ProcessingResult>;
}

export type ProcessorParameters = ReadonlyMap<string, string>;

export interface ProcessorSpec {
  type: string;
  /** Position in Firehose's pipeline; lower runs first. */
  order: number;
  /** Throws InvalidArgumentException for a bad parameter. */
  check(parameters: ProcessorParameters): void;
  create(parameters: ProcessorParameters): Processor;
}

const specs: ProcessorSpec[] = [decompressionProcessor, recordDeAggregationProcessor, lambdaProcessor, metadataExtractionProcessor, appendDelimiterProcessor];

export const processorSpecs: ReadonlyMap<string, ProcessorSpec> = new Map(specs.map((spec) => [spec.type, spec]));

function parametersOf(processor: NonNullable<ProcessingConfiguration['Processors']>[number]): ProcessorParameters {
  return new Map((processor.Parameters ?? []).map((parameter) => [parameter.ParameterName, parameter.ParameterValue]));
}

export function checkProcessingConfiguration(configuration: ProcessingConfiguration | undefined): void {
  if (!configuration || configuration.Enabled === false) return;
  for (const processor of configuration.Processors ?? []) {
    const spec = processorSpecs.get(processor.Type);
    if (!spec) throw new AwsError('InvalidArgumentException', `Processor type ${processor.Type} is not supported by Riffle.`);
    spec.check(parametersOf(processor));
  }
}

/** Runs the enabled processors over a batch. */
export async function processRecords(configuration: ProcessingConfiguration, input: readonly DeliveryRecord[], context: ProcessingContext): Promise<ProcessingResult> {
  const chain = (configuration.Processors ?? [])
    .map((processor) => ({ spec: processorSpecs.get(processor.Type)!, parameters: parametersOf(processor) }))
    .filter(({ spec }) => spec !== undefined)
    .sort((a, b) => a.spec.order - b.spec.order);
  let records: ProcessingRecord[] = input.map((record) => ({ ...record, original: record.data }));
  const failed: FailedRecord[] = [];
  for (const { spec, parameters } of chain) {
    const result = await spec.create(parameters).process(records, context);
    records = result.records;
    failed.push(...result.failed);
  }
  return { records, failed };
}

/** A record that failed in a processor, as the error output shows it. */
export function processingFailure(record: ProcessingRecord, errorCode: string, errorMessage: string, context: ProcessingContext, extra: Partial<FailedRecord> = {}): FailedRecord {
  return {
    arrivalMs: record.arrivalMs,
    data: record.original,
    errorCode,
    errorMessage,
    attemptsMade: 1,
    attemptEndingMs: context.clock.now(),
    ...extra,
  };
}
