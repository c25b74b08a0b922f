/**
 * Failed records in the shape Firehose writes them to the error output: one JSON object per line,
 * the record's original bytes base64 in `rawData` (developer guide, "Handle data transformation
 * failure" and "Handle data delivery failure").
 */
import type { ErrorOutputType } from './object-key.js';

export interface FailedRecord {
  arrivalMs: number;
  data: Buffer;
  errorCode: string;
  errorMessage: string;
  attemptsMade: number;
  attemptEndingMs: number;
  /** Lambda processing failures name the function. */
  lambdaArn?: string;
}

export interface ErrorBatch {
  type: ErrorOutputType;
  records: FailedRecord[];
}

/** A record that failed: its arrival time and bytes, why, and after how many attempts ending when. */
export function failedRecord(
  record: { arrivalMs: number; data: Buffer },
  errorCode: string,
  errorMessage: string,
  attemptsMade: number,
  attemptEndingMs: number,
): FailedRecord {
  return { arrivalMs: record.arrivalMs, data: record.data, errorCode, errorMessage, attemptsMade, attemptEndingMs };
}

export function encodeErrorRecords(records: readonly FailedRecord[]): Buffer {
  const lines = records.map((record) =>
    JSON.stringify({
      attemptsMade: record.attemptsMade,
      arrivalTimestamp: record.arrivalMs,
      errorCode: record.errorCode,
      errorMessage: record.errorMessage,
      attemptEndingTimestamp: record.attemptEndingMs,
      rawData: record.data.toString('base64'),
      ...(record.lambdaArn !== undefined ? { lambdaArn: record.lambdaArn } : {}),
    }),
  );
  return Buffer.from(lines.map((line) => `${line}\n`).join(''));
}
