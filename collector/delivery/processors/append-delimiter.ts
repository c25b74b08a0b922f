/** AppendDelimiterToRecord: a newline after every record (Firehose's delimiter, `\n`). */
import type { ProcessorSpec } from './index.js';

const NEWLINE = Buffer.from('\n');

export const appendDelimiterProcessor: ProcessorSpec = {
  type: 'AppendDelimiterToRecord',
  order: 50,
  check() {},
  create: () => ({
    async process(records) {
      return { records: records.map((record) => ({ ...record, data: Buffer.concat([record.data, NEWLINE]) })), failed: [] };
    },
  }),
};
