/**
 * The agent's sinks, for real: the kinesis sink against the built collector process (zstd CBOR
 * bodies, SigV4 with access keys, clock skew, shard throttling, a stopped collector), and against
 * a fake AWS endpoint (JSON, uncompressed); the firehose sink
 * against the collector's Firehose API and against a fake that checks the request as AWS
 * documents it; failure mapping the collector cannot be made to produce, against a fake; the
 * credential chain with a temp HOME.
 */
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { CreateStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { decode as decodeCborBytes } from 'cbor2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSink, sinkErrorCodes, sinkOptionsFor, type SendOutcome, type Sink, type SinkOptions, type SinkRecord } from '../../agent/sinks/index.js';
import { PackedRecords } from '../../agent/buffer/packed-records.js';
import { parseAgentConfig } from '../../agent/config.js';
import { compressesBodies, defaultEndpoint } from '../../shared/aws-client.js';
import { resolveCredentials } from '../../shared/aws-credentials.js';
import { ManualClock, systemClock } from '../../shared/clock.js';
import { ConfigError } from '../../shared/config-values.js';
import { signRequest } from '../../shared/sigv4.js';
import { zstdDecompress } from '../../shared/zstd.js';
import { cborEncode } from '../helpers/cbor-pieces.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { firehoseClient, waitForDeliveryStreamStatus } from '../helpers/firehose.js';
import { kinesisClient, listAllShards, readShard, waitForStreamStatus } from '../helpers/kinesis-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

type TempDir = Awaited<ReturnType<typeof makeTempDir>>;

const zstdMagic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Records of random binary data (invalid UTF-8 included) and lengths, spread over a few keys. */
function randomRecords(count: number, maxBytes: number): SinkRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    data: randomBytes(Math.floor(Math.random() * maxBytes)),
    partitionKey: `device-${i % 7}`,
  }));
}

async function createStream(client: KinesisClient, name: string, shards = 1): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitForStreamStatus(client, name);
}

/**
 * Every record of a one-shard stream, as GetRecords returns it, with the data in base64: deep
 * equality walks a Buffer byte by byte, which takes seconds for a few MB; strings compare at once.
 */
async function storedRecords(client: KinesisClient, streamName: string): Promise<Array<{ data: string; partitionKey: string }>> {
  const [shard] = await listAllShards(client, streamName);
  const { records } = await readShard(client, streamName, shard!.ShardId!);
  return records.map((record) => ({ data: Buffer.from(record.Data!).toString('base64'), partitionKey: record.PartitionKey! }));
}

function asStored(records: SinkRecord[]): Array<{ data: string; partitionKey: string }> {
  return records.map((record) => ({ data: record.data.toString('base64'), partitionKey: record.partitionKey }));
}

function kinds(outcomes: SendOutcome[]): string[] {
  return outcomes.map((outcome) => outcome.kind);
}

interface Exchange {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** An in-test HTTP server that records requests and answers each with `answer` (undefined: never). */
async function startFakeService(answer: (exchange: Exchange) => FakeAnswer | undefined) {
  const exchanges: Exchange[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const exchange = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      exchanges.push(exchange);
      const reply = answer(exchange);
      if (reply === undefined) return;
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    exchanges,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP relay in front of the collector that keeps a copy of every byte the client sent. */
async function startRecordingRelay(targetPort: number) {
  const sent: Buffer[] = [];
  const server = net.createServer((downstream) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    downstream.on('data', (chunk: Buffer) => sent.push(chunk));
    downstream.pipe(upstream).pipe(downstream);
    downstream.on('error', () => upstream.destroy());
    upstream.on('error', () => downstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    sent: () => Buffer.concat(sent),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A context whose credential chain sees only `env`, with HOME an empty temp dir. */
function isolatedContext(home: TempDir, env: NodeJS.ProcessEnv = {}, clock = systemClock) {
  return { clock, env: { HOME: home.path, ...env } };
}

describe('kinesis sink → open collector (--shard-limits 1)', () => {
  let dir: TempDir;
  let collector: CollectorProcess;
  let client: KinesisClient;
  const sinks: Sink[] = [];
  const openSink = (options: Partial<SinkOptions> = {}) => {
    const sink = createSink('kinesis', { endpoint: collector.endpoint, region: 'us-east-1', ...options }, isolatedContext(dir));
    sinks.push(sink);
    return sink;
  };

  beforeAll(async () => {
    dir = await makeTempDir('riffle-sinks-');
    collector = await startCollector(join(dir.path, 'data'), ['--shard-limits', '1']);
    client = kinesisClient(collector.endpoint);
  });
  afterAll(async () => {
    for (const sink of sinks) sink.close();
    client?.destroy();
    await collector?.stop();
    await dir?.remove();
  });

  it('puts a batch as a zstd-compressed CBOR body, and GetRecords returns every record byte for byte', async () => {
    await createStream(client, 'zstd-batch');
    const relay = await startRecordingRelay(collector.port);
    const sink = createSink('kinesis', { endpoint: relay.endpoint, region: 'us-east-1' }, isolatedContext(dir));
    try {
      const records = [...randomRecords(300, 3000), { data: Buffer.from('plain text line\n'), partitionKey: 'ключ' }, { data: Buffer.alloc(0), partitionKey: 'empty' }];

      const outcomes = await sink.send('zstd-batch', PackedRecords.from(records));

      expect(kinds(outcomes)).toEqual(records.map(() => 'ok'));
      const request = relay.sent();
      const headerEnd = request.indexOf('\r\n\r\n');
      const head = request.subarray(0, headerEnd).toString('latin1');
      expect(head).toMatch(/^content-encoding: zstd$/im);
      expect(head).toMatch(/^content-type: application\/x-amz-cbor-1\.1$/im);
      expect(head).toMatch(/^x-amz-target: Kinesis_20131202\.PutRecords$/im);
      const compressed = request.subarray(headerEnd + 4);
      expect(compressed.subarray(0, 4)).toEqual(zstdMagic);
      // cbor2: a decoder independent of the sink's writer and of the collector's cborg.
      const body = decodeCborBytes(await zstdDecompress(compressed, 16 * 1024 * 1024)) as { StreamName: string; Records: Array<{ Data: Uint8Array; PartitionKey: string }> };
      expect(body.StreamName).toBe('zstd-batch');
      expect(body.Records.map((entry) => ({ data: Buffer.from(entry.Data).toString('base64'), partitionKey: entry.PartitionKey }))).toEqual(asStored(records));
      expect(await storedRecords(client, 'zstd-batch')).toEqual(asStored(records));
    } finally {
      sink.close();
      await relay.close();
    }
  });

  it('reports the records a throttled shard refused as retry/throttled, and only those are missing', async () => {
    await createStream(client, 'throttled');
    const recordBytes = 400 * 1024;
    const records = Array.from({ length: 5 }, (_, i) => ({ data: randomBytes(recordBytes), partitionKey: `k${i}` }));
    // A fresh shard has one second of write allowance: 1 MiB (the Kinesis quota, --shard-limits 1).
    const admitted = Math.floor((1024 * 1024) / (recordBytes + 2));

    const outcomes = await openSink().send('throttled', PackedRecords.from(records));

    expect(kinds(outcomes)).toEqual(records.map((_, i) => (i < admitted ? 'ok' : 'retry')));
    for (const outcome of outcomes.slice(admitted)) {
      expect(outcome).toMatchObject({ kind: 'retry', code: 'ProvisionedThroughputExceededException', throttled: true });
    }
    expect(await storedRecords(client, 'throttled')).toEqual(asStored(records.slice(0, admitted)));
  });

  it('refuses a record too large or a bad partition key on its own and sends the rest', async () => {
    await createStream(client, 'local-checks');
    const fine = { data: Buffer.from('fine'), partitionKey: 'k' };
    const tooLarge = { data: Buffer.alloc(1024 * 1024), partitionKey: 'k' }; // 1 MiB of data + a 1-byte key
    const emptyKey = { data: Buffer.from('x'), partitionKey: '' };
    const longKey = { data: Buffer.from('x'), partitionKey: 'k'.repeat(257) };

    const outcomes = await openSink().send('local-checks', PackedRecords.from([fine, tooLarge, emptyKey, longKey, fine]));

    expect(outcomes.map((outcome) => (outcome.kind === 'ok' ? 'ok' : outcome.code))).toEqual([
      'ok',
      sinkErrorCodes.recordTooLarge,
      sinkErrorCodes.invalidPartitionKey,
      sinkErrorCodes.invalidPartitionKey,
      'ok',
    ]);
    expect(await storedRecords(client, 'local-checks')).toEqual(asStored([fine, fine]));
  });

  it('throws RangeError for a batch over the call limits (the caller batched wrongly)', async () => {
    const sink = openSink();
    const tooMany = Array.from({ length: sink.limits.maxRecords + 1 }, () => ({ data: Buffer.from('x'), partitionKey: 'k' }));
    await expect(sink.send('zstd-batch', PackedRecords.from(tooMany))).rejects.toBeInstanceOf(RangeError);
    expect(await sink.send('zstd-batch', PackedRecords.from([]))).toEqual([]);
  });

  it('maps a stream that does not exist to error ResourceNotFoundException', async () => {
    const outcomes = await openSink().send('no-such-stream', PackedRecords.from(randomRecords(3, 10)));
    expect(outcomes).toEqual(outcomes.map(() => expect.objectContaining({ kind: 'error', code: 'ResourceNotFoundException' })));
  });

  it('firehose: PutRecordBatch into a delivery stream is ok per record; an unknown one is error ResourceNotFoundException', async () => {
    const firehose = firehoseClient(collector.endpoint);
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'agent-delivery',
        ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::agent-bucket', RoleARN: 'arn:aws:iam::000000000000:role/firehose' },
      }),
    );
    await waitForDeliveryStreamStatus(firehose, 'agent-delivery');
    firehose.destroy();
    const sink = createSink('firehose', { endpoint: collector.endpoint, region: 'us-east-1' }, isolatedContext(dir));
    sinks.push(sink);
    expect(await sink.send('agent-delivery', PackedRecords.from(randomRecords(3, 10)))).toEqual([{ kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }]);
    const outcomes = await sink.send('no-such-delivery', PackedRecords.from(randomRecords(2, 10)));
    expect(outcomes).toEqual(outcomes.map(() => expect.objectContaining({ kind: 'error', code: 'ResourceNotFoundException' })));
  });
});

describe('kinesis sink → collector with access keys', () => {
  const accessKeyId = 'AKIDRIFFLESINKS';
  const secretAccessKey = 'the-right-secret';
  let dir: TempDir;
  let collector: CollectorProcess;
  let client: KinesisClient;
  const sinks: Sink[] = [];
  const sinkWith = (options: Partial<SinkOptions>, context = isolatedContext(dir)) => {
    const sink = createSink('kinesis', { endpoint: collector.endpoint, region: 'us-east-1', ...options }, context);
    sinks.push(sink);
    return sink;
  };

  beforeAll(async () => {
    dir = await makeTempDir('riffle-sinks-auth-');
    const configFile = join(dir.path, 'collector.json');
    await writeFile(configFile, JSON.stringify({ accessKeys: [{ accessKeyId, secretAccessKey }] }));
    collector = await startCollector(join(dir.path, 'data'), ['--config', configFile]);
    client = kinesisClient(collector.endpoint, { credentials: { accessKeyId, secretAccessKey } });
    await createStream(client, 'signed');
  });
  afterAll(async () => {
    for (const sink of sinks) sink.close();
    client?.destroy();
    await collector?.stop();
    await dir?.remove();
  });

  it('signs with configured keys, and with keys from ~/.aws/credentials, and the collector accepts both', async () => {
    const home = await makeTempDir('riffle-sinks-home-');
    try {
      await mkdir(join(home.path, '.aws'));
      await writeFile(join(home.path, '.aws', 'credentials'), `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`);
      const fromConfig = await sinkWith({ credentials: { accessKeyId, secretAccessKey } }).send('signed', PackedRecords.from(randomRecords(5, 100)));
      const fromFile = await sinkWith({}, isolatedContext(home)).send('signed', PackedRecords.from(randomRecords(5, 100)));
      expect(kinds([...fromConfig, ...fromFile])).toEqual(new Array(10).fill('ok'));
    } finally {
      await home.remove();
    }
  });

  it('maps a wrong secret to error InvalidSignatureException, and no credentials to MissingAuthenticationTokenException', async () => {
    const wrongSecret = await sinkWith({ credentials: { accessKeyId, secretAccessKey: 'not-the-secret' } }).send('signed', PackedRecords.from(randomRecords(3, 10)));
    const unsigned = await sinkWith({}).send('signed', PackedRecords.from(randomRecords(3, 10)));
    expect(wrongSecret).toEqual(wrongSecret.map(() => expect.objectContaining({ kind: 'error', code: 'InvalidSignatureException' })));
    expect(unsigned).toEqual(unsigned.map(() => expect.objectContaining({ kind: 'error', code: 'MissingAuthenticationTokenException' })));
  });

  it('retries a send refused for clock skew and signs the next one with the server time', async () => {
    await createStream(client, 'skewed');
    const clock = new ManualClock(Date.now() - 60 * 60 * 1000); // a device booted without NTP, an hour behind
    const sink = sinkWith({ credentials: { accessKeyId, secretAccessKey } }, isolatedContext(dir, {}, clock));
    const first = randomRecords(2, 100);
    const second = randomRecords(2, 100);

    const refused = await sink.send('skewed', PackedRecords.from(first));
    const accepted = await sink.send('skewed', PackedRecords.from(second));

    expect(refused).toEqual(first.map(() => expect.objectContaining({ kind: 'retry', code: 'InvalidSignatureException', throttled: false })));
    expect(kinds(accepted)).toEqual(['ok', 'ok']);
    expect(await storedRecords(client, 'skewed')).toEqual(asStored(second));
  });
});

describe('kinesis sink → collector that stops', () => {
  let dir: TempDir;
  let collector: CollectorProcess;

  beforeAll(async () => {
    dir = await makeTempDir('riffle-sinks-stop-');
    collector = await startCollector(join(dir.path, 'data'));
  });
  afterAll(async () => {
    await collector?.stop();
    await dir?.remove();
  });

  it('reports retry NETWORK_ERROR for every record once the collector is gone', async () => {
    const client = kinesisClient(collector.endpoint);
    await createStream(client, 'gone');
    client.destroy();
    const sink = createSink('kinesis', { endpoint: collector.endpoint, region: 'us-east-1' }, isolatedContext(dir));
    try {
      expect(kinds(await sink.send('gone', PackedRecords.from(randomRecords(3, 10))))).toEqual(['ok', 'ok', 'ok']);
      await collector.stop();
      const outcomes = await sink.send('gone', PackedRecords.from(randomRecords(3, 10)));
      expect(outcomes).toEqual(outcomes.map(() => expect.objectContaining({ kind: 'retry', code: sinkErrorCodes.network, throttled: false })));
    } finally {
      sink.close();
    }
  });
});

describe('kinesis sink → fake AWS endpoint', () => {
  // A fake, because AWS cannot be reached from here: the amazonaws.com host name resolves to a
  // local server (dns.lookup, which Node's net module calls for each connection, is stubbed).
  const credentials = { accessKeyId: 'AKIDKINESIS', secretAccessKey: 'kinesis-secret' };
  let home: TempDir;
  beforeAll(async () => {
    home = await makeTempDir('riffle-sinks-aws-');
  });
  afterAll(() => home?.remove());

  it('sends PutRecords to an amazonaws.com endpoint as JSON 1.1, uncompressed, and reads its JSON answer', async () => {
    const fake = await startFakeService((exchange) => {
      const { Records } = JSON.parse(exchange.body.toString()) as { Records: unknown[] };
      const results = Records.map((_, i) => (i === 0 ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' } : { SequenceNumber: String(i), ShardId: 'shardId-000000000000' }));
      return { status: 200, body: JSON.stringify({ FailedRecordCount: 1, Records: results }) };
    });
    const awsHost = 'kinesis.us-east-1.amazonaws.com';
    const realLookup = dns.lookup.bind(dns) as (hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => void;
    const lookup = vi
      .spyOn(dns, 'lookup')
      .mockImplementation(((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) =>
        realLookup(hostname === awsHost ? '127.0.0.1' : hostname, options, callback)) as unknown as typeof dns.lookup);
    const endpoint = `http://${awsHost}:${new URL(fake.endpoint).port}`;
    const sink = createSink('kinesis', { endpoint, region: 'us-east-1', credentials }, isolatedContext(home));
    try {
      const records = randomRecords(3, 500);
      const outcomes = await sink.send('stream-at-aws', PackedRecords.from(records));

      expect(outcomes).toEqual([{ kind: 'retry', code: 'ProvisionedThroughputExceededException', message: 'Rate exceeded', throttled: true }, { kind: 'ok' }, { kind: 'ok' }]);
      expect(lookup).toHaveBeenCalledWith(awsHost, expect.anything(), expect.any(Function));
      const [exchange] = fake.exchanges;
      expect(exchange!.headers).toMatchObject({ host: endpoint.slice('http://'.length), 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' });
      expect(exchange!.headers['content-encoding']).toBeUndefined();
      expect(String(exchange!.headers.authorization)).toMatch(/\/us-east-1\/kinesis\/aws4_request,/);
      expect(JSON.parse(exchange!.body.toString())).toEqual({
        StreamName: 'stream-at-aws',
        Records: records.map((record) => ({ Data: record.data.toString('base64'), PartitionKey: record.partitionKey })),
      });
    } finally {
      lookup.mockRestore();
      sink.close();
      await fake.close();
    }
  });
});

describe('firehose sink → fake Firehose', () => {
  // A fake, because the collector does not speak the Firehose API yet; it checks the request
  // shape AWS documents for PutRecordBatch and answers as Firehose does.
  const credentials = { accessKeyId: 'AKIDFIREHOSE', secretAccessKey: 'firehose-secret' };
  let home: TempDir;
  beforeAll(async () => {
    home = await makeTempDir('riffle-sinks-firehose-');
  });
  afterAll(() => home?.remove());

  /** Recomputes the request's signature from the headers it says it signed. */
  function signatureMatches(exchange: Exchange): boolean {
    const authorization = String(exchange.headers.authorization);
    const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    const signedHeaders = Object.fromEntries(signedNames.map((name) => [name, String(exchange.headers[name])]));
    const amzDate = String(exchange.headers['x-amz-date']);
    const at = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const expected = signRequest({ method: exchange.method, path: exchange.url, query: '', headers: signedHeaders, body: exchange.body }, credentials, { region: 'eu-west-1', service: 'firehose' }, at);
    return expected.authorization === authorization;
  }

  it('sends PutRecordBatch as AWS documents it, signed for firehose, over one kept-alive connection', async () => {
    const fake = await startFakeService((exchange) => {
      const { Records } = JSON.parse(exchange.body.toString()) as { Records: unknown[] };
      // Firehose answers a throttled entry with ServiceUnavailableException; the rest get RecordIds.
      const responses = Records.map((_, i) => (i === 1 ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' } : { RecordId: `id-${i}` }));
      return { status: 200, body: JSON.stringify({ FailedPutCount: 1, Encrypted: false, RequestResponses: responses }) };
    });
    const sink = createSink('firehose', { endpoint: fake.endpoint, region: 'eu-west-1', credentials, compression: 'none' }, isolatedContext(home));
    try {
      const batches = [randomRecords(3, 500), randomRecords(3, 500)];
      const outcomes = [await sink.send('delivery-1', PackedRecords.from(batches[0]!)), await sink.send('delivery-1', PackedRecords.from(batches[1]!))];

      for (const batchOutcomes of outcomes) {
        expect(batchOutcomes).toEqual([{ kind: 'ok' }, { kind: 'retry', code: 'ServiceUnavailableException', message: 'Slow down.', throttled: true }, { kind: 'ok' }]);
      }
      expect(fake.connections()).toBe(1);
      fake.exchanges.forEach((exchange, i) => {
        expect(exchange).toMatchObject({ method: 'POST', url: '/' });
        expect(exchange.headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Firehose_20150804.PutRecordBatch' });
        expect(exchange.headers['content-encoding']).toBeUndefined();
        expect(String(exchange.headers.authorization)).toContain(`Credential=${credentials.accessKeyId}/`);
        expect(String(exchange.headers.authorization)).toMatch(/\/eu-west-1\/firehose\/aws4_request,/);
        expect(signatureMatches(exchange)).toBe(true);
        expect(JSON.parse(exchange.body.toString())).toEqual({
          DeliveryStreamName: 'delivery-1',
          Records: batches[i]!.map((record) => ({ Data: record.data.toString('base64') })),
        });
      });
    } finally {
      sink.close();
      await fake.close();
    }
  });

  it('compresses with zstd towards a non-AWS endpoint by default', async () => {
    const fake = await startFakeService(() => ({ status: 200, body: JSON.stringify({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'a' }] }) }));
    const sink = createSink('firehose', { endpoint: fake.endpoint, region: 'eu-west-1' }, isolatedContext(home));
    try {
      const record = { data: Buffer.from('reading 21.5'), partitionKey: 'ignored' };
      expect(await sink.send('delivery-1', PackedRecords.from([record]))).toEqual([{ kind: 'ok' }]);
      const [exchange] = fake.exchanges;
      expect(exchange!.headers['content-encoding']).toBe('zstd');
      expect(exchange!.headers.authorization).toBeUndefined();
      const body = JSON.parse((await zstdDecompress(exchange!.body, 1024 * 1024)).toString()) as unknown;
      expect(body).toEqual({ DeliveryStreamName: 'delivery-1', Records: [{ Data: record.data.toString('base64') }] });
    } finally {
      sink.close();
      await fake.close();
    }
  });
});

function cborAnswer(status: number, body: unknown): FakeAnswer {
  return { status, headers: { 'content-type': 'application/x-amz-cbor-1.1' }, body: cborEncode(body) };
}

describe('failure mapping → fake service', () => {
  // A fake, because these are answers the collector cannot be made to give on demand.
  let home: TempDir;
  beforeAll(async () => {
    home = await makeTempDir('riffle-sinks-mapping-');
  });
  afterAll(() => home?.remove());

  const cases: Array<{ answer: FakeAnswer; expected: SendOutcome['kind']; code: string; throttled?: boolean }> = [
    { answer: { status: 500, body: '{"__type":"InternalFailure"}' }, expected: 'retry', code: 'InternalFailure', throttled: false },
    { answer: { status: 503, body: '' }, expected: 'retry', code: 'HTTP_503', throttled: false },
    { answer: { status: 400, body: '{"__type":"ThrottlingException","message":"Rate exceeded"}' }, expected: 'retry', code: 'ThrottlingException', throttled: true },
    { answer: { status: 400, body: '{"__type":"LimitExceededException"}' }, expected: 'retry', code: 'LimitExceededException', throttled: true },
    { answer: { status: 400, body: '{"__type":"ProvisionedThroughputExceededException"}' }, expected: 'retry', code: 'ProvisionedThroughputExceededException', throttled: true },
    { answer: { status: 429, body: '' }, expected: 'retry', code: 'HTTP_429', throttled: true },
    { answer: { status: 400, body: '{"__type":"com.amazonaws.kinesis.v20131202#ValidationException","message":"1 validation error"}' }, expected: 'error', code: 'ValidationException' },
    { answer: { status: 400, body: '{"__type":"AccessDeniedException"}' }, expected: 'error', code: 'AccessDeniedException' },
    {
      answer: { status: 400, headers: { 'x-amzn-ErrorType': 'UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/' }, body: '{}' },
      expected: 'error',
      code: 'UnrecognizedClientException',
    },
    { answer: { status: 200, body: 'not json' }, expected: 'retry', code: sinkErrorCodes.badResponse, throttled: false },
    // A collector answers a CBOR request in CBOR, errors included.
    { answer: cborAnswer(400, { __type: 'ResourceNotFoundException', message: 'Stream stream under account 000000000000 not found.' }), expected: 'error', code: 'ResourceNotFoundException' },
    { answer: cborAnswer(400, { __type: 'LimitExceededException' }), expected: 'retry', code: 'LimitExceededException', throttled: true },
    { answer: cborAnswer(500, { __type: 'InternalFailure' }), expected: 'retry', code: 'InternalFailure', throttled: false },
    { answer: cborAnswer(200, { FailedRecordCount: 0, Records: 'none' }), expected: 'retry', code: sinkErrorCodes.badResponse, throttled: false },
    { answer: { status: 200, headers: { 'content-type': 'application/x-amz-cbor-1.1' }, body: '{"Records":[]}' }, expected: 'retry', code: sinkErrorCodes.badResponse, throttled: false },
    { answer: { status: 200, body: '{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}' }, expected: 'retry', code: sinkErrorCodes.badResponse, throttled: false },
  ];

  const named = cases.map((testCase) => {
    const { body = '' } = testCase.answer;
    return { ...testCase, shown: typeof body === 'string' ? body : `CBOR ${JSON.stringify(decodeCborBytes(body))}` };
  });
  it.each(named)('HTTP $answer.status $shown → $expected $code', async ({ answer, expected, code, throttled }) => {
    const fake = await startFakeService(() => answer);
    const sink = createSink('kinesis', { endpoint: fake.endpoint, region: 'us-east-1' }, isolatedContext(home));
    try {
      const outcomes = await sink.send('stream', PackedRecords.from(randomRecords(2, 10)));
      const expectedOutcome = expected === 'retry' ? { kind: expected, code, throttled } : { kind: expected, code };
      expect(outcomes).toEqual([expect.objectContaining(expectedOutcome), expect.objectContaining(expectedOutcome)]);
    } finally {
      sink.close();
      await fake.close();
    }
  });

  it('sends again on a fresh connection when the server had closed the kept-alive one', async () => {
    let requests = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests += 1;
        // The second request finds its kept-alive connection gone, as when a server's idle
        // timeout and a new request cross.
        if (requests === 2) req.socket.resetAndDestroy();
        else res.end(JSON.stringify({ FailedRecordCount: 0, Records: [{ SequenceNumber: String(requests), ShardId: 'shardId-000000000000' }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const sink = createSink('kinesis', { endpoint, region: 'us-east-1' }, isolatedContext(home));
    try {
      const first = await sink.send('stream', PackedRecords.from(randomRecords(1, 10)));
      const second = await sink.send('stream', PackedRecords.from(randomRecords(1, 10)));
      expect([...first, ...second]).toEqual([{ kind: 'ok' }, { kind: 'ok' }]);
      expect(requests).toBe(3);
    } finally {
      sink.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('cuts an answer larger than any PutRecords answer: retry BAD_RESPONSE', async () => {
    const fake = await startFakeService(() => ({ status: 200, body: `{"Records":[],"padding":"${'x'.repeat(2 * 1024 * 1024)}"}` }));
    const sink = createSink('kinesis', { endpoint: fake.endpoint, region: 'us-east-1' }, isolatedContext(home));
    try {
      const outcomes = await sink.send('stream', PackedRecords.from(randomRecords(1, 10)));
      expect(outcomes).toEqual([expect.objectContaining({ kind: 'retry', code: sinkErrorCodes.badResponse })]);
    } finally {
      sink.close();
      await fake.close();
    }
  });

  it('gives up on a call with no answer after requestTimeoutMillis: retry TIMEOUT', async () => {
    const fake = await startFakeService(() => undefined);
    const sink = createSink('kinesis', { endpoint: fake.endpoint, region: 'us-east-1', requestTimeoutMillis: 200 }, isolatedContext(home));
    try {
      const outcomes = await sink.send('stream', PackedRecords.from(randomRecords(2, 10)));
      expect(outcomes).toEqual(outcomes.map(() => expect.objectContaining({ kind: 'retry', code: sinkErrorCodes.timeout })));
    } finally {
      sink.close();
      await fake.close();
    }
  });
});

describe('endpoints and compression', () => {
  it('defaults to the regional AWS endpoint', () => {
    expect(defaultEndpoint('kinesis', 'eu-west-1')).toBe('https://kinesis.eu-west-1.amazonaws.com');
    expect(defaultEndpoint('firehose', 'cn-north-1')).toBe('https://firehose.cn-north-1.amazonaws.com.cn');
  });

  it('compresses towards a collector, never towards AWS unless told to', () => {
    const collector = new URL('http://collector.lan:4567');
    for (const aws of ['https://kinesis.us-east-1.amazonaws.com', 'https://firehose.cn-north-1.amazonaws.com.cn', 'https://kinesis.us-east-1.api.aws']) {
      expect(compressesBodies('auto', new URL(aws))).toBe(false);
    }
    expect(compressesBodies('auto', collector)).toBe(true);
    expect(compressesBodies('none', collector)).toBe(false);
    expect(compressesBodies('zstd', new URL('https://kinesis.us-east-1.amazonaws.com'))).toBe(true);
  });

  it('fails at start for an AWS endpoint without credentials, or an endpoint that is not http(s)', async () => {
    const home = await makeTempDir('riffle-sinks-nocreds-');
    try {
      expect(() => createSink('kinesis', { region: 'us-east-1' }, isolatedContext(home))).toThrow(ConfigError);
      expect(() => createSink('kinesis', { region: 'us-east-1', endpoint: 'ftp://collector' }, isolatedContext(home))).toThrow(ConfigError);
    } finally {
      await home.remove();
    }
  });

  it('takes a flow its endpoint, region, credentials, compression and connections from agent.json', () => {
    const config = parseAgentConfig(
      {
        'kinesis.endpoint': 'http://collector.lan:4567',
        'kinesis.region': 'eu-central-1',
        awsAccessKeyId: 'AKIDCONFIG',
        awsSecretAccessKey: 'secret',
        maxSendingThreads: 2,
        flows: [
          { filePattern: '/var/log/app.log', kinesisStream: 'logs', compression: 'none' },
          { filePattern: '/var/log/other.log', deliveryStream: 'archive' },
        ],
      },
      '/etc/riffle/agent.json',
      '/var/lib/riffle-agent',
      {},
    );
    expect(sinkOptionsFor(config, config.flows[0]!)).toEqual({
      kind: 'kinesis',
      options: { endpoint: 'http://collector.lan:4567', region: 'eu-central-1', credentials: { accessKeyId: 'AKIDCONFIG', secretAccessKey: 'secret' }, compression: 'none', maxConnections: 2 },
    });
    expect(sinkOptionsFor(config, config.flows[1]!)).toMatchObject({ kind: 'firehose', options: { region: 'eu-central-1', compression: 'auto' } });
  });
});

describe('credential chain', () => {
  let home: TempDir;
  const credentialsFile = () => join(home.path, '.aws', 'credentials');
  const fileText = [
    '# shared credentials',
    '[default]',
    'aws_access_key_id = AKIDFILEDEFAULT',
    'aws_secret_access_key = file-default-secret',
    '',
    '[device]',
    'aws_access_key_id=AKIDFILEDEVICE',
    'aws_secret_access_key=file-device-secret',
    'aws_session_token=file-device-token',
  ].join('\n');

  beforeAll(async () => {
    home = await makeTempDir('riffle-sinks-creds-');
    await mkdir(join(home.path, '.aws'));
    await writeFile(credentialsFile(), fileText);
  });
  afterAll(() => home?.remove());

  const environment = { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token' };

  it('prefers agent.json keys, then the environment, then the shared credentials file', () => {
    const configured = { accessKeyId: 'AKIDCONFIG', secretAccessKey: 'config-secret' };
    const fromConfig = resolveCredentials(configured, { HOME: home.path, ...environment });
    const fromEnvironment = resolveCredentials(undefined, { HOME: home.path, ...environment });
    const fromFile = resolveCredentials(undefined, { HOME: home.path });
    expect([fromConfig?.origin, fromConfig?.current()]).toEqual(['config', configured]);
    expect([fromEnvironment?.origin, fromEnvironment?.current()]).toEqual([
      'environment',
      { accessKeyId: 'AKIDENV', secretAccessKey: 'env-secret', sessionToken: 'env-token' },
    ]);
    expect([fromFile?.origin, fromFile?.current()]).toEqual(['shared-credentials-file', { accessKeyId: 'AKIDFILEDEFAULT', secretAccessKey: 'file-default-secret' }]);
  });

  it('reads the profile AWS_PROFILE names, with its session token, and refuses one that is missing', () => {
    expect(resolveCredentials(undefined, { HOME: home.path, AWS_PROFILE: 'device' })?.current()).toEqual({
      accessKeyId: 'AKIDFILEDEVICE',
      secretAccessKey: 'file-device-secret',
      sessionToken: 'file-device-token',
    });
    expect(() => resolveCredentials(undefined, { HOME: home.path, AWS_PROFILE: 'absent' })).toThrow(ConfigError);
  });

  it('finds nothing in an empty HOME, and refuses half a key pair in the environment', async () => {
    const empty = await makeTempDir('riffle-sinks-empty-home-');
    try {
      expect(resolveCredentials(undefined, { HOME: empty.path })).toBeUndefined();
      expect(() => resolveCredentials(undefined, { HOME: empty.path, AWS_ACCESS_KEY_ID: 'AKIDONLY' })).toThrow(ConfigError);
    } finally {
      await empty.remove();
    }
  });

  it('follows a credentials file that is rewritten with new keys', async () => {
    const file = join(home.path, 'rotating-credentials');
    await writeFile(file, '[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = old\naws_session_token = t1\n');
    const source = resolveCredentials(undefined, { HOME: home.path, AWS_SHARED_CREDENTIALS_FILE: file });
    expect(source?.current().accessKeyId).toBe('AKIDOLD');
    await writeFile(file, '[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = new\naws_session_token = t2\n');
    const later = new Date(Date.now() + 5_000); // a distinct mtime even on coarse-grained file systems
    await utimes(file, later, later);
    expect(source?.current()).toEqual({ accessKeyId: 'AKIDNEW', secretAccessKey: 'new', sessionToken: 't2' });
  });
});
