/**
 * What the fast PutRecords readers (put-records-cbor.ts, put-records-json.ts) need from the
 * request shape in AWS's model, read from it once. The readers accept only values that satisfy
 * it and leave everything else to the generic validation (collector/api/schemas/validate.ts).
 *
 * The readers' assumptions about the model are checked at load: a regenerated model that adds a
 * member or a constraint stops the collector at start rather than skipping a check silently.
 */
import kinesisModelJson from '../schemas/kinesis-model.json' with { type: 'json' };
import type { BlobShape, ListShape, ServiceModel, StringShape, StructureShape } from '../schemas/shape.js';
import { kinesisValidator } from '../schemas/validate.js';

const OPERATION = 'PutRecords';
export const STREAM_MEMBERS = ['StreamName', 'StreamARN', 'StreamId'] as const;
export type StreamMember = (typeof STREAM_MEMBERS)[number];

const requestShape = (kinesisModelJson as ServiceModel).operations[OPERATION]!;
const recordsShape = requestShape.members.Records as ListShape;
const entryShape = recordsShape.member as StructureShape;
const partitionKeyShape = entryShape.members.PartitionKey as StringShape;
const dataShape = entryShape.members.Data as BlobShape;
assertModel(sameMembers(requestShape, [...STREAM_MEMBERS, 'Records'], ['Records']), 'PutRecordsInput');
assertModel(sameMembers(entryShape, ['PartitionKey', 'ExplicitHashKey', 'Data'], ['PartitionKey', 'Data']), 'PutRecordsRequestEntry');
assertModel(recordsShape.type === 'list' && dataShape.type === 'blob', 'Records / Data types');
assertModel(partitionKeyShape.type === 'string' && partitionKeyShape.pattern === undefined && partitionKeyShape.enum === undefined, 'PartitionKey');

export const MIN_RECORDS = recordsShape.min ?? 0;
export const MAX_RECORDS = recordsShape.max ?? Number.MAX_SAFE_INTEGER;
/** In characters (UTF-16 units, as Java counts them); the readers take ASCII keys only, where bytes are characters. */
export const MIN_KEY_CHARS = partitionKeyShape.min ?? 0;
export const MAX_KEY_CHARS = partitionKeyShape.max ?? Number.MAX_SAFE_INTEGER;
export const MIN_DATA_BYTES = dataShape.min ?? 0;
export const MAX_DATA_BYTES = dataShape.max ?? Number.MAX_SAFE_INTEGER;

const streamMemberChecks = new Map(STREAM_MEMBERS.map((name) => [name, kinesisValidator.stringCheck(OPERATION, [name])]));
export function streamMemberSatisfies(member: StreamMember, value: string): boolean {
  return streamMemberChecks.get(member)!(value);
}
export const explicitHashKeySatisfies = kinesisValidator.stringCheck(OPERATION, ['Records', 'ExplicitHashKey']);

/** Member names as bytes, for the readers to compare a body's keys with (no string per key). */
export const MEMBER_NAMES = {
  Records: Buffer.from('Records', 'latin1'),
  Data: Buffer.from('Data', 'latin1'),
  PartitionKey: Buffer.from('PartitionKey', 'latin1'),
  ExplicitHashKey: Buffer.from('ExplicitHashKey', 'latin1'),
  StreamName: Buffer.from('StreamName', 'latin1'),
  StreamARN: Buffer.from('StreamARN', 'latin1'),
  StreamId: Buffer.from('StreamId', 'latin1'),
} as const;

/** Thrown inside a fast reader when the body must go the generic way. Never leaves `readOrFallBack`. */
export const fallBack = Symbol('fall back to the generic path');

/** What `read` returns, or undefined when it threw `fallBack`: the generic path must read the body. */
export function readOrFallBack<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error === fallBack) return undefined;
    throw error;
  }
}

/** Whether the `length` bytes of `bytes` from `start` are `name`. */
export function bytesAre(bytes: Buffer, start: number, length: number, name: Uint8Array): boolean {
  if (length !== name.length) return false;
  for (let index = 0; index < length; index++) if (bytes[start + index] !== name[index]) return false;
  return true;
}

/** The stream member (StreamName, StreamARN, StreamId) whose name those bytes are, if any. */
export function streamMemberAt(bytes: Buffer, start: number, length: number): StreamMember | undefined {
  return STREAM_MEMBERS.find((name) => bytesAre(bytes, start, length, MEMBER_NAMES[name]));
}

function sameMembers(shape: StructureShape, members: readonly string[], required: readonly string[]): boolean {
  const sorted = (names: readonly string[]) => [...names].sort().join(',');
  return shape.type === 'structure' && sorted(Object.keys(shape.members)) === sorted(members) && sorted(shape.required ?? []) === sorted(required);
}

function assertModel(holds: boolean, what: string): void {
  if (!holds) throw new Error(`kinesis-model.json changed (${what}): the fast PutRecords readers need revisiting`);
}
