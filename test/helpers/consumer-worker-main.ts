/** The process behind consumer-worker-process.ts: one ConsumerWorker with a recording processor. */
import { appendFileSync } from 'node:fs';
import { ConsumerWorker } from '../../shared/consumer/index.js';
import { LEASE_START, type WorkerProcessConfig } from './consumer-worker-process.js';

const config = JSON.parse(process.argv[2]!) as WorkerProcessConfig;
const print = (event: string, fields: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

const worker = new ConsumerWorker({
  endpoint: config.endpoint,
  applicationName: config.applicationName,
  streamName: config.streamName,
  workerId: config.workerId,
  leaseDurationMs: config.leaseDurationMs,
  pollIntervalMs: config.pollIntervalMs,
  readMode: config.readMode,
  log: print,
  processorFactory: (shardId) => ({
    initialize() {
      appendFileSync(config.outFile, `${shardId}\t${LEASE_START}\t0\t\n`);
    },
    async processRecords(records, checkpointer) {
      const line = (r: (typeof records)[number]) => `${shardId}\t${r.sequenceNumber}\t${r.subSequenceNumber}\t${r.data.toString()}\n`;
      if (config.dieAfter === undefined) {
        appendFileSync(config.outFile, records.map(line).join(''));
        await checkpointer.checkpoint();
        return;
      }
      for (const record of records) {
        appendFileSync(config.outFile, line(record));
        await checkpointer.checkpoint(record.sequenceNumber, record.subSequenceNumber);
        if (record.data.toString() === config.dieAfter) process.kill(process.pid, 'SIGKILL');
      }
    },
  }),
});

process.on('SIGTERM', () => {
  void worker.shutdown().then(() => {
    print('stopped');
    process.exit(0);
  });
});
await worker.start();
print('started');
