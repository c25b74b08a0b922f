/**
 * The shape PutRecords and PutRecordBatch share: a list of records in, a list of per-record
 * results out, in the same order, each either a success or an `ErrorCode`. Each sink describes
 * its operation; this sends a batch through it and turns the answer into one outcome per record.
 * An operation with a CBOR body sends CBOR to a Riffle collector (the client compresses its
 * bodies) and JSON to AWS; the answer is read in whichever protocol it comes back in.
 */
import { badResponse, type AwsJsonClient, type OutputReader } from '../../shared/aws-client.js';
import { decodeAwsBody } from '../../shared/aws-wire.js';
import { decodeRecordResults } from './records-cbor.js';
import { sinkErrorCodes, type ErrorOutcome, type SendOutcome, type SinkLimits, type SinkRecord } from './sink.js';

export interface BatchOperation {
  /** `X-Amz-Target`. */
  target: string;
  limits: SinkLimits;
  /** The record's size as the service counts it against its limits. */
  recordBytes(record: SinkRecord): number;
  /** A rule, beyond size, the record breaks, which would make the service refuse the whole call. */
  invalidRecord?(record: SinkRecord): ErrorOutcome | undefined;
  /** The request's JSON body (see records-body.ts). */
  body(streamName: string, records: SinkRecord[]): Buffer;
  /** The request's CBOR body (see records-cbor.ts), for a Riffle collector; absent: JSON to every endpoint. */
  cborBody?(streamName: string, records: SinkRecord[]): Buffer;
  /** The output member listing per-record results. */
  resultsMember: string;
  /** The per-record ErrorCode that means "slow down". */
  throttledErrorCode: string;
}

const ok: SendOutcome = { kind: 'ok' };

export async function sendBatch(client: AwsJsonClient, operation: BatchOperation, streamName: string, records: SinkRecord[]): Promise<SendOutcome[]> {
  if (records.length === 0) return [];
  const { limits } = operation;
  const sizes = records.map((record) => operation.recordBytes(record));
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  if (records.length > limits.maxRecords || totalBytes > limits.maxBatchBytes) {
    throw new RangeError(
      `${operation.target}: a batch of ${records.length} records and ${totalBytes} bytes is over the limits of ${limits.maxRecords} records and ${limits.maxBatchBytes} bytes`,
    );
  }

  const outcomes: Array<SendOutcome | undefined> = records.map((record, i) =>
    sizes[i]! > limits.maxRecordBytes
      ? { kind: 'error', code: sinkErrorCodes.recordTooLarge, message: `record of ${sizes[i]} bytes; at most ${limits.maxRecordBytes}` }
      : operation.invalidRecord?.(record),
  );
  const sendable: number[] = [];
  for (let i = 0; i < records.length; i++) if (outcomes[i] === undefined) sendable.push(i);
  if (sendable.length === 0) return outcomes as SendOutcome[];

  const fill = (outcome: SendOutcome) => {
    for (const i of sendable) outcomes[i] = outcome;
    return outcomes as SendOutcome[];
  };
  const batch = sendable.length === records.length ? records : sendable.map((i) => records[i]!);
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
