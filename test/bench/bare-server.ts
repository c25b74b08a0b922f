/**
 * The ceiling for any Node front end: a bare `node:http` server that does only what every
 * PutRecords server must — read the body, parse it, base64-decode each record's data —
 * and answers a PutRecords-shaped JSON with a sequence number per record. No validation, no
 * hashing, no storage. Run as its own process; prints `{"event":"listening","api":URL}` as the
 * collector does.
 */
import http from 'node:http';
// The fastest JSON reader we have (the one Riffle itself uses), so the ceiling stays a ceiling.
import { parseJsonBuffer } from '../../shared/json-buffer.js';

const PUT_RECORDS_TARGET = 'Kinesis_20131202.PutRecords';
const SHARD_ID = 'shardId-000000000000';
/** Kinesis sequence numbers are 56 digits; the answer should be as long as a real one. */
const SEQUENCE_PREFIX = '49';
const SEQUENCE_DIGITS = 54;

let nextOrdinal = 0;

function answerPutRecords(body: Buffer): string {
  const input = parseJsonBuffer(body) as { Records: Array<{ Data: string }> };
  const records = input.Records.map((record) => {
    Buffer.from(record.Data, 'base64');
    return { SequenceNumber: SEQUENCE_PREFIX + String(nextOrdinal++).padStart(SEQUENCE_DIGITS, '0'), ShardId: SHARD_ID };
  });
  return JSON.stringify({ FailedRecordCount: 0, Records: records });
}

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let status = 200;
    let answer: string;
    if (request.headers['x-amz-target'] !== PUT_RECORDS_TARGET) {
      status = 400;
      answer = JSON.stringify({ __type: 'UnknownOperationException' });
    } else {
      try {
        answer = answerPutRecords(Buffer.concat(chunks));
      } catch (error) {
        status = 400;
        answer = JSON.stringify({ __type: 'SerializationException', message: (error as Error).message });
      }
    }
    response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(answer) });
    response.end(answer);
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the bare server has no TCP address');
  process.stdout.write(`${JSON.stringify({ event: 'listening', api: `http://127.0.0.1:${address.port}` })}\n`);
});
