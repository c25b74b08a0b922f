/**
 * Decompression: GZIP-compressed records (CloudWatch Logs subscriptions send them) are
 * decompressed; a record that is not valid GZIP fails to processing-failed.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { AwsError } from '../../../shared/errors.js';
import { processingFailure, type ProcessingRecord, type ProcessorSpec } from './index.js';

const gunzipAsync = promisify(gunzip);
// A record is at most 1,000 KiB (PutRecord quota); its decompressed form is bounded to stop zip bombs.
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export const decompressionProcessor: ProcessorSpec = {
  type: 'Decompression',
  order: 10,
  check(parameters) {
    const format = parameters.get('CompressionFormat') ?? 'GZIP';
    if (format !== 'GZIP') throw new AwsError('InvalidArgumentException', `Decompression CompressionFormat ${format} is not supported; use GZIP.`);
  },
  create: () => ({
    async process(records, context) {
      const out: ProcessingRecord[] = [];
      const failed = [];
      for (const record of records) {
        try {
          out.push({ ...record, data: await gunzipAsync(record.data, { maxOutputLength: MAX_DECOMPRESSED_BYTES }) });
        } catch (error) {
          failed.push(processingFailure(record, 'Decompression.InvalidData', `The record could not be decompressed: ${(error as Error).message}`, context));
        }
      }
      return { records: out, failed };
    },
  }),
};
