/**
 * The shape PutRecords and PutRecordBatch share: a list of records in, a list of per-record
 * results out, in the same order, each either a success or an `ErrorCode`. Each sink describes
 * its operation; this sends a batch through it and turns the answer into one outcome per record.
 * An operation with a CBOR body sends CBOR to a Riffle collector (the client compresses its
 * bodies) and JSON to AWS; the answer is read in whichever protocol it comes back in.
 */
import { badResponse, type AwsJsonClient, type OutputReader } from '../../shared/aws-client.js';
import { decodeAwsBody } from '../../shared/aws-wire.js';
import type { PackedRecords } from '../buffer/packed-records.js';
import { decodeRecordResults } from './records-cbor.js';
import { sinkErrorCodes, type ErrorOutcome, type SendOutcome, type SinkLimits } from './sink.js';

export interface BatchOperation {
  /** `X-Amz-Target`. */
  target: string;
  limits: SinkLimits;
  /** A record's size as the service counts it against its limits. */
  recordBytes(dataBytes: number, partitionKey: string | undefined): number;
  /** A rule, beyond size, the record's partition key breaks, which would make the service refuse the whole call. */
  invalidPartitionKey?(partitionKey: string | undefined): ErrorOutcome | undefined;
  /** The request's JSON body (see records-body.ts). */
  body(streamName: string, records: PackedRecords): Buffer;
  /** The request's CBOR body (see records-cbor.ts), for a Riffle collector; absent: JSON to every endpoint. */
  cborBody?(streamName: string, records: PackedRecords): Buffer;
  /** The output member listing per-record results. */
  resultsMember: string;
  /** The per-record ErrorCode that means "slow down". */
  throttledErrorCode: string;
}

const ok: SendOutcome = { kind: 'ok' };

export async function sendBatch(client: AwsJsonClient, operation: BatchOperation, streamName: string, records: PackedRecords): Promise<SendOutcome[]> {
  if (records.length === 0) return [];
  const { limits } = operation;
  const outcomes = new Array<SendOutcome | undefined>(records.length);
  let refused = 0;
  let totalBytes = 0;
  for (let i = 0; i < records.length; i++) {
    const partitionKey = records.partitionKey(i);
    const size = operation.recordBytes(records.dataLength(i), partitionKey);
    totalBytes += size;
    const refusal =
      size > limits.maxRecordBytes
        ? ({ kind: 'error', code: sinkErrorCodes.recordTooLarge, message: `record of ${size} bytes; at most ${limits.maxRecordBytes}` } as const)
        : operation.invalidPartitionKey?.(partitionKey);
    if (refusal === undefined) continue;
    outcomes[i] = refusal;
    refused++;
  }
  if (records.length > limits.maxRecords || totalBytes > limits.maxBatchBytes) {
    throw new RangeError(
      `${operation.target}: a batch of ${records.length} records and ${totalBytes} bytes is over the limits of ${limits.maxRecords} records and ${limits.maxBatchBytes} bytes`,
    );
  }
  if (refused === records.length) return outcomes as SendOutcome[];
  const sendable: number[] = [];
  for (let i = 0; i < records.length; i++) if (outcomes[i] === undefined) sendable.push(i);

  const fill = (outcome: SendOutcome) => {
    for (const i of sendable) outcomes[i] = outcome;
    return outcomes as SendOutcome[];
  };
  const batch = refused === 0 ? records : records.select(sendable);
  // A CBOR answer's per-record results are read by hand; anything else by the general decoder.
  const readOutput: OutputReader = (answer, protocol) => (protocol === 'cbor' ? decodeRecordResults(answer, operation.resultsMember) : decodeAwsBody(answer, protocol));
  const result =
    operation.cborBody !== undefined && client.compressesBodies
      ? await client.call(operation.target, operation.cborBody(streamName, batch), 'cbor', readOutput)
      : await client.call(operation.target, operation.body(streamName, batch), 'json', readOutput);
  if (!result.ok) return fill(result.failure);
  const results = result.output[operation.resultsMember];
  if (!Array.isArray(results) || results.length !== sendable.length) {
    return fill(badResponse(`${operation.resultsMember} lists ${Array.isArray(results) ? results.length : 'no'} results for ${sendable.length} records`));
  }
  sendable.forEach((recordIndex, resultIndex) => {
    const entry: unknown = results[resultIndex];
    if (typeof entry !== 'object' || entry === null) {
      outcomes[recordIndex] = badResponse(`${operation.resultsMember}[${resultIndex}] is not a structure`);
      return;
    }
    const { ErrorCode: code, ErrorMessage: message } = entry as { ErrorCode?: unknown; ErrorMessage?: unknown };
    outcomes[recordIndex] =
      typeof code === 'string'
        ? { kind: 'retry', code, message: typeof message === 'string' ? message : '', throttled: code === operation.throttledErrorCode }
        : ok;
  });
  return outcomes as SendOutcome[];
}
