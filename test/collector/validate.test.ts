import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildServiceModel,
  formatModelJson,
  readBotocoreModel,
} from '../../collector/api/schemas/generate-api-model.js';
import { firehoseValidator, kinesisOperations, kinesisValidator, type WireProtocol } from '../../collector/api/schemas/validate.js';
import { AwsError, type ErrorCode } from '../../shared/errors.js';

const { hasOperation, validateRequest } = kinesisValidator;

/** The error validateRequest throws, or a failure if it accepts the input. */
function rejection(operation: string, input: unknown, protocol: WireProtocol = 'json'): { code: ErrorCode; message: string } {
  try {
    validateRequest(operation, input, protocol);
  } catch (error) {
    if (error instanceof AwsError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`${operation} accepted ${JSON.stringify(input)}`);
}

const longName = 'a'.repeat(129);
const truncatingBigNumber = 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber';

describe('operations', () => {
  it('knows the Kinesis operations by their X-Amz-Target names', () => {
    for (const operation of ['CreateStream', 'PutRecord', 'PutRecords', 'GetShardIterator', 'GetRecords', 'ListShards', 'SplitShard']) {
      expect(hasOperation(operation)).toBe(true);
      expect(kinesisOperations).toContain(operation);
    }
    expect(hasOperation('putRecords')).toBe(false);
    expect(hasOperation('toString')).toBe(false);
  });

  it('rejects an unknown operation', () => {
    expect(rejection('CreateDeliveryStream', {}).code).toBe('UnknownOperationException');
  });
});

describe('SerializationException for a value of the wrong type', () => {
  const cases: [operation: string, input: unknown, message: string][] = [
    ['CreateStream', { StreamName: true }, 'class java.lang.Boolean can not be converted to an String'],
    ['CreateStream', { StreamName: 23 }, `${truncatingBigNumber} can not be converted to an String`],
    ['CreateStream', { StreamName: 34.56 }, `${truncatingBigNumber} can not be converted to an String`],
    ['CreateStream', { StreamName: [] }, 'Start of list found where not expected'],
    ['CreateStream', { StreamName: {} }, 'Start of structure or map found where not expected.'],
    ['CreateStream', { StreamName: 'a', ShardCount: '23' }, 'class java.lang.String can not be converted to an Integer'],
    ['CreateStream', { StreamName: 'a', ShardCount: true }, 'class java.lang.Boolean can not be converted to an Integer'],
    ['CreateStream', { StreamName: 'a', StreamModeDetails: 'PROVISIONED' }, 'Expected null'],
    ['CreateStream', { StreamName: 'a', Tags: 'a=b' }, 'Expected map or null'],
    ['CreateStream', { StreamName: 'a', Tags: [] }, 'Start of list found where not expected'],
    ['CreateStream', { StreamName: 'a', Tags: { a: 1 } }, `${truncatingBigNumber} can not be converted to an String`],
    ['PutRecord', { PartitionKey: 'a', Data: true }, 'class java.lang.Boolean can not be converted to a Blob'],
    ['PutRecord', { PartitionKey: 'a', Data: 23 }, `${truncatingBigNumber} can not be converted to a Blob`],
    ['PutRecord', { PartitionKey: 'a', Data: '23456' }, "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"],
    ['PutRecord', { PartitionKey: 'a', Data: '=+/=' }, "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"],
    ['PutRecord', { PartitionKey: 'a', Data: '+/+=' }, "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"],
    ['PutRecord', { PartitionKey: 'a', Data: 'ab c' }, "'ab c' can not be converted to a Blob: Invalid Base64 character: ' '"],
    ['PutRecord', { PartitionKey: 'a', Data: 'ab-_' }, "'ab-_' can not be converted to a Blob: Invalid Base64 character: '-'"],
    ['PutRecord', { PartitionKey: 'a', Data: 'QUŁB' }, "'QUŁB' can not be converted to a Blob: Invalid Base64 character: 'Ł'"],
    ['PutRecord', { PartitionKey: 'a', Data: '====' }, "'====' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"],
    ['PutRecords', { Records: 'x' }, 'Expected list or null'],
    ['PutRecords', { Records: {} }, 'Start of structure or map found where not expected.'],
    ['PutRecords', { Records: ['x'] }, 'Expected null'],
    ['PutRecords', { Records: [[]] }, 'Start of list found where not expected'],
    ['PutRecords', { Records: [{ PartitionKey: 5, Data: '' }] }, `${truncatingBigNumber} can not be converted to an String`],
    ['GetShardIterator', { ShardId: 'a', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: '2024-01-01' }, 'class java.lang.String can not be converted to milliseconds since epoch'],
    ['GetShardIterator', { ShardId: 'a', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: true }, 'class java.lang.Boolean can not be converted to milliseconds since epoch'],
    ['GetRecords', { ShardIterator: 'a', Limit: '10' }, 'class java.lang.String can not be converted to an Integer'],
    ['ListShards', { ShardFilter: { Type: 1 } }, `${truncatingBigNumber} can not be converted to an String`],
    ['ListShards', { MaxResults: [] }, 'Start of list found where not expected'],
    ['SplitShard', { ShardToSplit: 'a', NewStartingHashKey: 1 }, `${truncatingBigNumber} can not be converted to an String`],
    ['DeleteStream', { EnforceConsumerDeletion: 'maybe' }, "'MAYBE' can not be converted to an Boolean"],
    ['DeleteStream', { EnforceConsumerDeletion: 1 }, `${truncatingBigNumber} can not be converted to an Boolean`],
    ['DescribeStream', [], 'Start of list found where not expected'],
  ];

  it.each(cases)('%s %j', (operation, input, message) => {
    expect(rejection(operation, input)).toEqual({ code: 'SerializationException', message });
  });

  it.each([null, undefined, 'StreamName', 42, true])('rejects the body %j, which is not an object', (input) => {
    expect(rejection('ListStreams', input).code).toBe('SerializationException');
  });

  it('reports a type error ahead of any constraint violation', () => {
    expect(rejection('CreateStream', { StreamName: '', ShardCount: 'many' })).toEqual({
      code: 'SerializationException',
      message: 'class java.lang.String can not be converted to an Integer',
    });
  });

  it('rejects CBOR-only values where they do not belong', () => {
    expect(rejection('PutRecord', { PartitionKey: new Uint8Array([97]), Data: '' }, 'cbor').code).toBe('SerializationException');
    expect(rejection('PutRecord', { PartitionKey: 'a', Data: new Date() }, 'cbor').code).toBe('SerializationException');
  });
});

describe('ValidationException for broken constraints', () => {
  const cases: [operation: string, input: unknown, message: string][] = [
    // required
    ['CreateStream', {}, "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"],
    [
      'PutRecord',
      {},
      '2 validation errors detected: ' +
        "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'data' failed to satisfy constraint: Member must not be null",
    ],
    ['PutRecords', { StreamName: 'a' }, "1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null"],
    [
      'GetShardIterator',
      { StreamName: 'a', ShardId: null },
      '2 validation errors detected: ' +
        "Value null at 'shardId' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null",
    ],
    ['GetRecords', {}, "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null"],
    [
      'SplitShard',
      {},
      '2 validation errors detected: ' +
        "Value null at 'newStartingHashKey' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'shardToSplit' failed to satisfy constraint: Member must not be null",
    ],
    ['ListShards', { ShardFilter: {} }, "1 validation error detected: Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null"],
    // pattern, length and value range, in AWS's order (messages kinesalite's tests recorded from AWS)
    [
      'CreateStream',
      { StreamName: '', ShardCount: 0 },
      '3 validation errors detected: ' +
        "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    [
      'CreateStream',
      { StreamName: 'my stream' },
      "1 validation error detected: Value 'my stream' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ],
    [
      'CreateStream',
      { StreamName: longName },
      `1 validation error detected: Value '${longName}' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128`,
    ],
    [
      'CreateStream',
      { StreamName: 'a', MaxRecordSizeInKiB: 100 },
      "1 validation error detected: Value '100' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024",
    ],
    [
      'PutRecord',
      { StreamName: '', PartitionKey: '', Data: '', ExplicitHashKey: '', SequenceNumberForOrdering: '' },
      '5 validation errors detected: ' +
        "Value '' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128}); " +
        "Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value '' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    [
      'GetShardIterator',
      { StreamName: '', ShardIteratorType: '', ShardId: '', StartingSequenceNumber: '' },
      '6 validation errors detected: ' +
        "Value '' at 'shardId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value '' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]; " +
        "Value '' at 'startingSequenceNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128}); " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    [
      'GetRecords',
      { ShardIterator: '', Limit: 10001 },
      '2 validation errors detected: ' +
        "Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000; " +
        "Value '' at 'shardIterator' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    [
      'ListShards',
      { StreamName: 'a', MaxResults: 0, NextToken: '', ExclusiveStartShardId: longName },
      '3 validation errors detected: ' +
        `Value '${longName}' at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length less than or equal to 128; ` +
        "Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ],
    [
      'ListShards',
      { ShardFilter: { Type: 'LATEST' } },
      "1 validation error detected: Value 'LATEST' at 'shardFilter.type' failed to satisfy constraint: " +
        'Member must satisfy enum value set: [FROM_TIMESTAMP, AT_TRIM_HORIZON, AT_TIMESTAMP, FROM_TRIM_HORIZON, AT_LATEST, AFTER_SHARD_ID]',
    ],
    [
      'SplitShard',
      { StreamName: '', ShardToSplit: '', NewStartingHashKey: '' },
      '5 validation errors detected: ' +
        "Value '' at 'newStartingHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value '' at 'shardToSplit' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '' at 'shardToSplit' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    // the pattern must match the whole value: a leading zero, or 40 digits, is no hash key
    [
      'SplitShard',
      { ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '0123' },
      "1 validation error detected: Value '0123' at 'newStartingHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
    ],
    [
      'SplitShard',
      { ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '1'.repeat(40) },
      `1 validation error detected: Value '${'1'.repeat(40)}' at 'newStartingHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})`,
    ],
    // Java's \S matches a no-break space, JavaScript's does not; a plain space fails either way
    [
      'DescribeStreamSummary',
      { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/my stream' },
      "1 validation error detected: Value 'arn:aws:kinesis:us-east-1:123456789012:stream/my stream' at 'streamARN' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+',
    ],
    // nested members and list elements
    [
      'PutRecords',
      { StreamName: 'a', Records: [{ PartitionKey: 'a', Data: '' }, { PartitionKey: '', Data: 'AA==' }, { Data: '', ExplicitHashKey: 'x' }, null] },
      '4 validation errors detected: ' +
        "Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value null at 'records.3.member.partitionKey' failed to satisfy constraint: Member must not be null; " +
        "Value 'x' at 'records.3.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); " +
        "Value null at 'records.4.member' failed to satisfy constraint: Member must not be null",
    ],
    ['PutRecords', { StreamName: 'a', Records: [] }, "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    [
      'CreateStream',
      { StreamName: 'a', StreamModeDetails: { StreamMode: 'SERVERLESS' } },
      "1 validation error detected: Value 'SERVERLESS' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]",
    ],
    // a list's scalar members and a map's keys and values are reported as a whole
    [
      'RemoveTagsFromStream',
      { StreamName: 'a', TagKeys: ['a', longName, 'b'] },
      `1 validation error detected: Value '[a, ${longName}, b]' at 'tagKeys' failed to satisfy constraint: ` +
        'Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
    ],
    [
      'AddTagsToStream',
      { StreamName: 'a', Tags: { team: 'data', '': 'x' } },
      "1 validation error detected: Value '{team=data, =x}' at 'tags' failed to satisfy constraint: " +
        'Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
    ],
    [
      'AddTagsToStream',
      { StreamName: 'a', Tags: { team: 'd'.repeat(257) } },
      `1 validation error detected: Value '{team=${'d'.repeat(257)}}' at 'tags' failed to satisfy constraint: ` +
        'Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]',
    ],
    ['AddTagsToStream', { Tags: {} }, "1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    [
      'EnableEnhancedMonitoring',
      { StreamName: 'a', ShardLevelMetrics: ['IncomingBytes', 'Latency'] },
      "1 validation error detected: Value '[IncomingBytes, Latency]' at 'shardLevelMetrics' failed to satisfy constraint: " +
        'Member must satisfy constraint: [Member must satisfy enum value set: ' +
        '[ALL, IteratorAgeMilliseconds, IncomingBytes, WriteProvisionedThroughputExceeded, OutgoingRecords, ReadProvisionedThroughputExceeded, IncomingRecords, OutgoingBytes]]',
    ],
  ];

  it.each(cases)('%s %j', (operation, input, message) => {
    expect(rejection(operation, input)).toEqual({ code: 'ValidationException', message });
  });

  it('measures a blob by its decoded bytes and prints it as Java does', () => {
    const maxBytes = 10 * 1024 * 1024; // PutRecord: 10 MiB record — Kinesis quota (model: Data max)
    const atLimit = Buffer.alloc(maxBytes).toString('base64');
    expect(validateRequest('PutRecord', { PartitionKey: 'a', Data: atLimit }, 'json')['Data']).toHaveLength(maxBytes);
    expect(rejection('PutRecord', { PartitionKey: 'a', Data: Buffer.alloc(maxBytes + 1).toString('base64') })).toEqual({
      code: 'ValidationException',
      message:
        `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${maxBytes + 1} cap=${maxBytes + 1}]' ` +
        `at 'data' failed to satisfy constraint: Member must have length less than or equal to ${maxBytes}`,
    });
    expect(rejection('PutRecord', { PartitionKey: 'a', Data: new Uint8Array(maxBytes + 1) }, 'cbor').message).toContain(
      `lim=${maxBytes + 1} cap=${maxBytes + 1}]' at 'data'`,
    );
  });

  it('prints a list of structures as Java objects', () => {
    const records = Array.from({ length: 501 }, () => ({ PartitionKey: 'a', Data: '' }));
    const { code, message } = rejection('PutRecords', { StreamName: 'a', Records: records });
    expect(code).toBe('ValidationException');
    const entry = 'com\\.amazonaws\\.kinesis\\.v20131202\\.PutRecordsRequestEntry@[0-9a-f]+';
    expect(message).toMatch(
      new RegExp(
        `^1 validation error detected: Value '\\[${entry}(, ${entry}){500}\\]' at 'records' ` +
          `failed to satisfy constraint: Member must have length less than or equal to 500$`,
      ),
    );
  });

  it('lists at most 10 violations, the first ones in AWS order', () => {
    const records = Array.from({ length: 12 }, () => ({ PartitionKey: '', Data: 'AA==' }));
    const { code, message } = rejection('PutRecords', { StreamName: 'a', Records: records });
    expect(code).toBe('ValidationException');
    const expected = records
      .slice(0, 10)
      .map(
        (_, index) =>
          `Value '' at 'records.${index + 1}.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1`,
      );
    expect(message).toBe(`10 validation errors detected: ${expected.join('; ')}`);
  });
});

describe('accepted requests', () => {
  it('JSON: decodes Base64 blobs to Buffers and epoch seconds to Dates, and drops unknown members', () => {
    const input = {
      StreamName: 'orders',
      Records: [
        { PartitionKey: 'p1', Data: Buffer.from('hello').toString('base64'), ExplicitHashKey: '340282366920938463463374607431768211455' },
        { PartitionKey: 'p2', Data: '', Color: 'blue' },
      ],
      Region: 'mars-1',
    };
    const request = validateRequest('PutRecords', input, 'json');
    expect(request).toEqual({
      StreamName: 'orders',
      Records: [
        { PartitionKey: 'p1', Data: Buffer.from('hello'), ExplicitHashKey: '340282366920938463463374607431768211455' },
        { PartitionKey: 'p2', Data: Buffer.alloc(0) },
      ],
    });
    const [first] = request['Records'] as { Data: unknown }[];
    expect(Buffer.isBuffer(first?.Data)).toBe(true);
    expect(input.Records[0]?.Data).toBe('aGVsbG8='); // the decoded body is left as it was

    const shardIterator = validateRequest(
      'GetShardIterator',
      { StreamName: 'orders', ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: 1700000000.25 },
      'json',
    );
    expect(shardIterator['Timestamp']).toEqual(new Date(1700000000250));

    const listShards = validateRequest('ListShards', { StreamName: 'orders', ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: 1700000000 } }, 'json');
    expect(listShards['ShardFilter']).toEqual({ Type: 'AT_TIMESTAMP', Timestamp: new Date(1700000000000) });
  });

  it('CBOR: takes byte strings as Buffers, and tagged Dates or epoch milliseconds as Dates', () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const record = validateRequest('PutRecord', { StreamName: 'orders', PartitionKey: 'p', Data: bytes }, 'cbor');
    expect(Buffer.isBuffer(record['Data'])).toBe(true);
    expect(record['Data']).toEqual(Buffer.from([0, 1, 2, 255]));

    const buffer = Buffer.from('already a buffer');
    expect(validateRequest('PutRecord', { PartitionKey: 'p', Data: buffer }, 'cbor')['Data']).toBe(buffer);

    const at = new Date('2024-05-06T07:08:09.123Z');
    const tagged = validateRequest('GetShardIterator', { ShardId: 's', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: at }, 'cbor');
    expect(tagged['Timestamp']).toBe(at);
    const millis = validateRequest('GetShardIterator', { ShardId: 's', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: at.getTime() }, 'cbor');
    expect(millis['Timestamp']).toEqual(at);
  });

  it('converts numbers and Boolean spellings as AWS does', () => {
    expect(validateRequest('GetRecords', { ShardIterator: 'i', Limit: 10.7 }, 'json')['Limit']).toBe(10);
    expect(validateRequest('DeleteStream', { StreamName: 'a', EnforceConsumerDeletion: 'Yes' }, 'json')['EnforceConsumerDeletion']).toBe(true);
    expect(validateRequest('DeleteStream', { StreamName: 'a', EnforceConsumerDeletion: '0' }, 'json')['EnforceConsumerDeletion']).toBe(false);
  });

  it('keeps a tag named __proto__ as data', () => {
    const request = validateRequest('AddTagsToStream', JSON.parse('{"StreamName":"a","Tags":{"__proto__":"x"}}'), 'json');
    const tags = request['Tags'] as Record<string, unknown>;
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(tags, '__proto__')?.value).toBe('x');
  });
});

describe('Base64 decoding', () => {
  /** AWS's rules checked character by character, as kinesalite spells them out (validations/index.js). */
  function expectedOutcome(text: string): string {
    if (text.length % 4 !== 0) return 'length';
    const invalid = /[^A-Za-z0-9+/=]|=[^=]/.exec(text);
    if (invalid) return `character ${invalid[0][0]}`;
    return Buffer.from(text, 'base64').toString('base64') === text ? 'ok' : 'last character';
  }

  function actualOutcome(text: string): string {
    try {
      validateRequest('PutRecord', { PartitionKey: 'a', Data: text }, 'json');
      return 'ok';
    } catch (error) {
      const message = (error as Error).message;
      if (message.includes('multiple of 4')) return 'length';
      const character = /Invalid Base64 character: '(.+)'$/su.exec(message);
      if (character) return `character ${character[1]}`;
      return message.includes('Invalid last non-pad') ? 'last character' : message;
    }
  }

  it('agrees with the character-by-character rules on random strings', () => {
    // mulberry32: a seeded generator, so a failure reproduces
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const standard = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // characters Node's decoder would skip or misread: URL-safe, whitespace, and code units whose low byte is a Base64 letter
    const tricky = ['=', '=', '-', '_', ' ', '\n', '!', '\u0141', '\u012b', '\u00c1', '\u0000', '\ud83d\ude00'];
    const outcomes = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const length = 4 * (1 + Math.floor(random() * 3)) + (random() < 0.1 ? 1 : 0);
      for (let j = 0; j < length; j++) {
        text += random() < 0.9 ? standard[Math.floor(random() * 64)] : tricky[Math.floor(random() * tricky.length)];
      }
      if (random() < 0.3) text = `${text.slice(0, -2)}==`;
      else if (random() < 0.3) text = `${text.slice(0, -1)}=`;
      const expected = expectedOutcome(text);
      outcomes.add(expected.startsWith('character') ? 'character' : expected);
      expect(actualOutcome(text), JSON.stringify(text)).toBe(expected);
    }
    expect([...outcomes].sort()).toEqual(['character', 'last character', 'length', 'ok']);
  });
});

// The committed JSON must be what the generator makes of the botocore model (skipped where botocore is absent).
const botocoreDataDir = '/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/botocore/data';
const botocoreModelPath = `${botocoreDataDir}/kinesis/2013-12-02/service-2.json.gz`;
const firehoseBotocoreModelPath = `${botocoreDataDir}/firehose/2015-08-04/service-2.json.gz`;

describe('kinesis-model.json', () => {
  it.skipIf(!existsSync(botocoreModelPath))('is up to date with the botocore model', () => {
    const botocore = readBotocoreModel(botocoreModelPath);
    const committed = readFileSync(new URL('../../collector/api/schemas/kinesis-model.json', import.meta.url), 'utf8');
    expect(committed).toBe(`${formatModelJson(buildServiceModel(botocore))}\n`);
    expect(kinesisOperations).toEqual(Object.keys(botocore.operations).sort());
  });
});

describe('firehose-model.json', () => {
  it.skipIf(!existsSync(firehoseBotocoreModelPath))('is up to date with the botocore model', () => {
    const botocore = readBotocoreModel(firehoseBotocoreModelPath);
    const committed = readFileSync(new URL('../../collector/api/schemas/firehose-model.json', import.meta.url), 'utf8');
    expect(committed).toBe(`${formatModelJson(buildServiceModel(botocore))}\n`);
    expect(firehoseValidator.operations).toEqual(Object.keys(botocore.operations).sort());
  });

  it('compiles every Firehose request shape, Java patterns included', () => {
    // An empty body reaches every member's compiled constraints; only missing members may be reported.
    for (const operation of firehoseValidator.operations) {
      try {
        firehoseValidator.validateRequest(operation, {}, 'json');
      } catch (error) {
        expect((error as AwsError).code, operation).toBe('ValidationException');
      }
    }
  });

  it('reports Firehose violations with Firehose paths', () => {
    const attempt = () =>
      firehoseValidator.validateRequest('PutRecordBatch', { DeliveryStreamName: 'bad name', Records: [] }, 'json');
    expect(attempt).toThrowError(AwsError);
    try {
      attempt();
    } catch (error) {
      expect((error as AwsError).code).toBe('ValidationException');
      expect((error as AwsError).message).toContain("at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern");
      expect((error as AwsError).message).toContain("at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
  });
});
