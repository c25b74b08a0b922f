/**
 * Validates a decoded request against the operation's request shape from AWS's API model
 * (kinesis-model.json, firehose-model.json) and answers invalid input exactly as Kinesis does
 * (Firehose runs on the same Coral framework, so the same rules apply):
 *
 * - a value of the wrong type → SerializationException with the message AWS's (Coral) JSON
 *   reader gives, at the first such value;
 * - otherwise every broken constraint (required, length, value range, pattern, enum) → one
 *   ValidationException, "N validation error(s) detected: Value … at '<path>' failed to satisfy
 *   constraint: …; …", in AWS's order, at most 10.
 *
 * The wording, paths, value rendering and limits follow the messages kinesalite's tests
 * recorded from AWS (github.com/mhart/kinesalite, validations/index.js and test/*.js).
 *
 * An operation's shape is compiled on its first request (patterns once per process); after that
 * a request costs one walk over its values, and a message is built only for a value that breaks
 * a constraint — this runs for every record of every PutRecords call.
 */
import { AwsError } from '../../../shared/errors.js';
import type { WireProtocol } from '../operation.js';
import firehoseModelJson from './firehose-model.json' with { type: 'json' };
import kinesisModelJson from './kinesis-model.json' with { type: 'json' };
import type { ServiceModel, Shape, StructureShape } from './shape.js';

export type { WireProtocol };

// AWS lists at most 10 violations in one ValidationException (kinesalite validations/index.js).
const maxReportedViolations = 10;
// Out-of-range JSON numbers are truncated to Java's Integer.MAX_VALUE (kinesalite validations/index.js).
const javaIntegerMax = 2147483647;

const notNull = 'Member must not be null';

interface Constraint {
  readonly description: string;
  isViolatedBy(value: unknown): boolean;
}

interface Member {
  readonly name: string;
  /** The member as AWS names it in a message: camelCase. */
  readonly pathName: string;
  readonly required: boolean;
  readonly node: Node;
}

interface StructureNode {
  readonly kind: 'structure';
  readonly javaClass: string;
  readonly members: readonly Member[];
}

interface ListNode {
  readonly kind: 'list';
  readonly member: Node;
  readonly constraints: readonly Constraint[];
}

interface MapNode {
  readonly kind: 'map';
  readonly key: ScalarNode;
  readonly value: Node;
  readonly constraints: readonly Constraint[];
}

interface ScalarNode {
  readonly kind: 'string' | 'blob' | 'integer' | 'long' | 'double' | 'boolean' | 'timestamp';
  readonly constraints: readonly Constraint[];
  /** AWS's summary of all the constraints, used when it reports a list's members or a map's keys or values as a whole. */
  readonly summary: string;
}

type Node = StructureNode | ListNode | MapNode | ScalarNode;

const compiledPatterns = new Map<string, RegExp>();

export interface RequestValidator {
  readonly operations: readonly string[];
  hasOperation(operation: string): boolean;
  /**
   * Throws AwsError SerializationException / ValidationException exactly as the service does;
   * returns the input with blobs as Buffer and timestamps as Date. Unknown members are ignored
   * (as AWS does).
   */
  validateRequest(operation: string, input: unknown, protocol: WireProtocol): Record<string, unknown>;
  /**
   * Whether a string satisfies every constraint (length, pattern, enum) of the string member at
   * `path` in the operation's request (list members are stepped through: ['Records',
   * 'ExplicitHashKey']) — for a fast reader that leaves anything doubtful to `validateRequest`.
   */
  stringCheck(operation: string, path: readonly string[]): (value: string) => boolean;
}

export function createRequestValidator(model: ServiceModel): RequestValidator {
  const requestShapes = new Map(Object.entries(model.operations));
  // AWS renders a structure as Java's Object.toString() of its model class (kinesalite
  // validations/putRecords.js: com.amazonaws.kinesis.v20131202), named after the model's uid.
  const [, service = '', year = '', month = '', day = ''] = /^(.*)-(\d{4})-(\d{2})-(\d{2})$/.exec(model.service.uid) ?? [];
  const javaModelPackage = `com.amazonaws.${service}.v${year}${month}${day}`;
  /** Operation → its compiled request shape, compiled on first use. */
  const compiledShapes = new Map<string, StructureNode>();

  const compiledRequestShape = (operation: string): StructureNode => {
    let compiled = compiledShapes.get(operation);
    if (!compiled) {
      const shape = requestShapes.get(operation);
      if (!shape) throw new AwsError('UnknownOperationException', '');
      compiled = compileStructure(shape, javaModelPackage);
      compiledShapes.set(operation, compiled);
    }
    return compiled;
  };

  return {
    operations: Object.freeze([...requestShapes.keys()]),
    hasOperation: (operation) => requestShapes.has(operation),
    validateRequest(operation, input, protocol) {
      const shape = compiledRequestShape(operation);
      // A body that is not a JSON object gets a SerializationException without a message (kinesalite index.js).
      if (input === null || typeof input !== 'object') throw new AwsError('SerializationException', '');
      const reader = new RequestReader(protocol);
      const request = reader.readStructure(shape, input, undefined);
      const count = reader.violations.length;
      if (count > 0) {
        throw new AwsError(
          'ValidationException',
          `${count} validation error${count === 1 ? '' : 's'} detected: ${reader.violations.join('; ')}`,
        );
      }
      return request;
    },
    stringCheck(operation, path) {
      let node: Node = compiledRequestShape(operation);
      for (const name of path) {
        while (node.kind === 'list') node = node.member;
        const member: Member | undefined = node.kind === 'structure' ? node.members.find((candidate) => candidate.name === name) : undefined;
        if (!member) throw new Error(`${operation} has no member ${path.join('.')}`);
        node = member.node;
      }
      if (node.kind !== 'string') throw new Error(`${operation}.${path.join('.')} is a ${node.kind}, not a string`);
      const constraints = node.constraints;
      return (value) => !violatesAny(constraints, value);
    },
  };
}

export const kinesisValidator = createRequestValidator(kinesisModelJson as ServiceModel);
export const firehoseValidator = createRequestValidator(firehoseModelJson as ServiceModel);

export const kinesisOperations: readonly string[] = kinesisValidator.operations;

// --- compiling the model -------------------------------------------------------------------------

function compile(shape: Shape, javaModelPackage: string): Node {
  switch (shape.type) {
    case 'structure':
      return compileStructure(shape, javaModelPackage);
    case 'list':
      return { kind: 'list', member: compile(shape.member, javaModelPackage), constraints: lengthConstraints(shape.min, shape.max).inOrder };
    case 'map': {
      const key = compile(shape.key, javaModelPackage);
      if (key.kind !== 'string') throw new Error(`map keys must be strings, not ${key.kind}`);
      return { kind: 'map', key, value: compile(shape.value, javaModelPackage), constraints: lengthConstraints(shape.min, shape.max).inOrder };
    }
    case 'string': {
      const lengths = lengthConstraints(shape.min, shape.max);
      const pattern = shape.pattern === undefined ? [] : [patternConstraint(shape.pattern)];
      const values = shape.enum === undefined ? [] : [enumConstraint(shape.enum)];
      // AWS checks the pattern before the lengths (kinesalite test/createStream.js), and
      // summarises the maximum before the minimum (test/removeTagsFromStream.js).
      return scalar('string', [...pattern, ...lengths.inOrder, ...values], [...lengths.summaryOrder, ...pattern, ...values]);
    }
    case 'blob': {
      const lengths = lengthConstraints(shape.min, shape.max);
      return scalar('blob', lengths.inOrder, lengths.summaryOrder);
    }
    case 'integer':
    case 'long':
    case 'double': {
      const range = valueConstraints(shape.min, shape.max);
      return scalar(shape.type, range.inOrder, range.summaryOrder);
    }
    case 'boolean':
    case 'timestamp':
      return scalar(shape.type, [], []);
  }
}

function compileStructure(shape: StructureShape, javaModelPackage: string): StructureNode {
  const required = new Set(shape.required);
  return {
    kind: 'structure',
    javaClass: `${javaModelPackage}.${shape.name}`,
    members: Object.entries(shape.members).map(([name, member]) => ({
      name,
      pathName: name[0]!.toLowerCase() + name.slice(1),
      required: required.has(name),
      node: compile(member, javaModelPackage),
    })),
  };
}

function scalar(kind: ScalarNode['kind'], inOrder: Constraint[], summaryOrder: Constraint[]): ScalarNode {
  return { kind, constraints: inOrder, summary: `[${summaryOrder.map((constraint) => constraint.description).join(', ')}]` };
}

interface ConstraintOrders {
  inOrder: Constraint[];
  summaryOrder: Constraint[];
}

function lengthConstraints(min: number | undefined, max: number | undefined): ConstraintOrders {
  const atLeast: Constraint[] =
    min === undefined
      ? []
      : [{ description: `Member must have length greater than or equal to ${min}`, isViolatedBy: (value) => !(lengthOf(value) >= min) }];
  const atMost: Constraint[] =
    max === undefined
      ? []
      : [{ description: `Member must have length less than or equal to ${max}`, isViolatedBy: (value) => !(lengthOf(value) <= max) }];
  return { inOrder: [...atLeast, ...atMost], summaryOrder: [...atMost, ...atLeast] };
}

function valueConstraints(min: number | undefined, max: number | undefined): ConstraintOrders {
  const atLeast: Constraint[] =
    min === undefined
      ? []
      : [{ description: `Member must have value greater than or equal to ${min}`, isViolatedBy: (value) => !((value as number) >= min) }];
  const atMost: Constraint[] =
    max === undefined
      ? []
      : [{ description: `Member must have value less than or equal to ${max}`, isViolatedBy: (value) => !((value as number) <= max) }];
  return { inOrder: [...atLeast, ...atMost], summaryOrder: [...atMost, ...atLeast] };
}

/** Lengths as Java counts them: UTF-16 code units, decoded bytes, elements, entries. */
function lengthOf(value: unknown): number {
  if (typeof value === 'string' || Array.isArray(value) || value instanceof Uint8Array) return value.length;
  return Object.keys(value as object).length;
}

function patternConstraint(javaPattern: string): Constraint {
  let regex = compiledPatterns.get(javaPattern);
  if (!regex) {
    regex = new RegExp(`^(?:${toJavaScriptRegex(javaPattern)})$`, 'u');
    compiledPatterns.set(javaPattern, regex);
  }
  const compiled = regex;
  return {
    description: `Member must satisfy regular expression pattern: ${javaPattern}`,
    isViolatedBy: (value) => !compiled.test(value as string),
  };
}

const javaScriptEscapable = new Set('^$\\.*+?()[]{}|/');

// Java's \s is [ \t\n\x0B\f\r]; JavaScript's also matches Unicode spaces, so spell Java's out.
const javaWhitespace = ' \\t\\n\\x0B\\f\\r';

function toJavaScriptRegex(javaPattern: string): string {
  let source = '';
  let inClass = false;
  for (let i = 0; i < javaPattern.length; i++) {
    const char = javaPattern[i]!;
    if (char === '\\') {
      const escaped = javaPattern[++i] ?? '';
      if (escaped === 's') source += inClass ? javaWhitespace : `[${javaWhitespace}]`;
      else if (escaped === 'S' && !inClass) source += `[^${javaWhitespace}]`;
      else if (escaped === 'S') throw new Error(`\\S inside a character class is not supported: ${javaPattern}`);
      // Java lets any non-letter be escaped (`\_` in Firehose's patterns); JavaScript's `u` mode only syntax characters.
      else if (escaped === '-' && inClass) source += '\\-';
      else if (/[^\p{L}\p{N}]/u.test(escaped) && !javaScriptEscapable.has(escaped)) source += escaped;
      else source += `\\${escaped}`;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    source += char;
  }
  return source;
}

function enumConstraint(values: readonly string[]): Constraint {
  const allowed = new Set(values);
  return {
    description: `Member must satisfy enum value set: [${values.join(', ')}]`,
    isViolatedBy: (value) => !allowed.has(value as string),
  };
}

// --- reading a request ---------------------------------------------------------------------------

/** Where a value sits, as AWS prints it: `records.1.member.partitionKey`. Materialised only for a message. */
class Path {
  constructor(
    readonly parent: Path | undefined,
    /** A member's camelCase name, or a list index (printed 1-based, as `<n>.member`). */
    readonly segment: string | number,
  ) {}

  toString(): string {
    const segment = typeof this.segment === 'number' ? `${this.segment + 1}.member` : this.segment;
    return this.parent ? `${this.parent.toString()}.${segment}` : segment;
  }
}

class RequestReader {
  readonly violations: string[] = [];

  constructor(private readonly protocol: WireProtocol) {}

  readStructure(node: StructureNode, value: unknown, path: Path | undefined): Record<string, unknown> {
    if (!isPlainObject(value)) throw conversionError('structure', value);
    const result: Record<string, unknown> = {};
    for (const member of node.members) {
      const memberValue = value[member.name];
      if (memberValue === null || memberValue === undefined) {
        if (member.required) this.violate(member.node, null, path, member.pathName, notNull);
        continue;
      }
      result[member.name] = this.read(member.node, memberValue, path, member.pathName);
    }
    return result;
  }

  private read(node: Node, value: unknown, parent: Path | undefined, segment: string | number): unknown {
    switch (node.kind) {
      case 'structure':
        return this.readStructure(node, value, new Path(parent, segment));
      case 'list':
        return this.readList(node, value, parent, segment);
      case 'map':
        return this.readMap(node, value, parent, segment);
      default: {
        const converted = convertScalar(node, value, this.protocol);
        this.check(node, node.constraints, converted, parent, segment);
        return converted;
      }
    }
  }

  private readList(node: ListNode, value: unknown, parent: Path | undefined, segment: string | number): unknown[] {
    if (!Array.isArray(value)) throw conversionError('list', value);
    this.check(node, node.constraints, value, parent, segment);
    const path = new Path(parent, segment);
    const member = node.member;
    const result: unknown[] = new Array(value.length);
    let someMemberViolates = false;
    for (let index = 0; index < value.length; index++) {
      const element: unknown = value[index];
      if (element === null || element === undefined) {
        this.violate(member, null, path, index, notNull);
        result[index] = null;
      } else if (isScalarNode(member)) {
        // AWS reports a list's scalar members as one violation of the list (kinesalite test/removeTagsFromStream.js).
        const converted = convertScalar(member, element, this.protocol);
        someMemberViolates ||= violatesAny(member.constraints, converted);
        result[index] = converted;
      } else {
        result[index] = this.read(member, element, path, index);
      }
    }
    if (someMemberViolates && isScalarNode(member)) {
      this.violate(node, value, parent, segment, `Member must satisfy constraint: ${member.summary}`);
    }
    return result;
  }

  private readMap(node: MapNode, value: unknown, parent: Path | undefined, segment: string | number): Record<string, unknown> {
    if (!isPlainObject(value)) throw conversionError('map', value);
    this.check(node, node.constraints, value, parent, segment);
    const entries: [string, unknown][] = [];
    let someKeyViolates = false;
    let someValueViolates = false;
    for (const [key, entryValue] of Object.entries(value)) {
      someKeyViolates ||= violatesAny(node.key.constraints, key);
      if (entryValue === null || entryValue === undefined) {
        this.violate(node.value, null, new Path(parent, segment), `${key}.member`, notNull);
        entries.push([key, null]);
      } else if (isScalarNode(node.value)) {
        const converted = convertScalar(node.value, entryValue, this.protocol);
        someValueViolates ||= violatesAny(node.value.constraints, converted);
        entries.push([key, converted]);
      } else {
        entries.push([key, this.read(node.value, entryValue, new Path(parent, segment), `${key}.member`)]);
      }
    }
    // AWS reports keys and values of a map as a whole (kinesalite validations/addTagsToStream.js).
    if (someKeyViolates) this.violate(node, value, parent, segment, `Map keys must satisfy constraint: ${node.key.summary}`);
    if (someValueViolates && isScalarNode(node.value)) {
      this.violate(node, value, parent, segment, `Map value must satisfy constraint: ${node.value.summary}`);
    }
    // fromEntries defines own properties, so a key like "__proto__" stays data.
    return Object.fromEntries(entries);
  }

  private check(node: Node, constraints: readonly Constraint[], value: unknown, parent: Path | undefined, segment: string | number): void {
    for (const constraint of constraints) {
      if (constraint.isViolatedBy(value)) this.violate(node, value, parent, segment, constraint.description);
    }
  }

  private violate(node: Node, value: unknown, parent: Path | undefined, segment: string | number, description: string): void {
    if (this.violations.length >= maxReportedViolations) return;
    const shown = value === null ? 'null' : `'${renderValue(node, value)}'`;
    this.violations.push(`Value ${shown} at '${new Path(parent, segment).toString()}' failed to satisfy constraint: ${description}`);
  }
}

function isScalarNode(node: Node): node is ScalarNode {
  return node.kind !== 'structure' && node.kind !== 'list' && node.kind !== 'map';
}

function violatesAny(constraints: readonly Constraint[], value: unknown): boolean {
  for (const constraint of constraints) if (constraint.isViolatedBy(value)) return true;
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date)
  );
}

/** A value as AWS (Java) prints it in a message. */
function renderValue(node: Node, value: unknown, position = 0): string {
  if (value === null || value === undefined) return 'null';
  switch (node.kind) {
    case 'blob': {
      const length = (value as Uint8Array).length;
      return `java.nio.HeapByteBuffer[pos=0 lim=${length} cap=${length}]`;
    }
    case 'list':
      return `[${(value as unknown[]).map((element, index) => renderValue(node.member, element, index)).join(', ')}]`;
    case 'map':
      return `{${Object.entries(value as Record<string, unknown>)
        .map(([key, entryValue]) => `${key}=${renderValue(node.value, entryValue)}`)
        .join(', ')}}`;
    case 'structure':
      // Java prints `<class>@<identity hash>`; the hash is arbitrary, so derive a stable one from the position.
      return `${node.javaClass}@${(Math.imul(position + 1, 0x9e3779b1) >>> 1).toString(16)}`;
    default:
      return value instanceof Date ? value.toISOString() : String(value);
  }
}

// --- converting wire values ----------------------------------------------------------------------

function convertScalar(node: ScalarNode, value: unknown, protocol: WireProtocol): unknown {
  switch (node.kind) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'integer':
    case 'long': {
      const number = typeof value === 'bigint' ? Number(value) : value;
      if (typeof number === 'number') return node.kind === 'integer' ? Math.min(Math.floor(number), javaIntegerMax) : Math.floor(number);
      break;
    }
    case 'double': {
      const number = typeof value === 'bigint' ? Number(value) : value;
      if (typeof number === 'number') return number;
      break;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') return booleanFromString(value);
      break;
    case 'blob':
      if (typeof value === 'string') return blobFromBase64(value);
      if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      break;
    case 'timestamp':
      if (value instanceof Date) return value;
      // JSON carries epoch seconds; AWS's CBOR carries epoch milliseconds (aws-sdk-java-v2
      // AwsCborProtocolFactory: UNIX_TIMESTAMP_MILLIS).
      if (typeof value === 'number' || typeof value === 'bigint') {
        return new Date(protocol === 'json' ? Number(value) * 1000 : Number(value));
      }
      break;
  }
  throw conversionError(node.kind, value);
}

// AWS accepts these spellings for a Boolean sent as a string (kinesalite validations/index.js).
const booleanSpellings = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

function booleanFromString(text: string): boolean {
  const parsed = booleanSpellings.get(text.toLowerCase());
  if (parsed === undefined) throw new AwsError('SerializationException', `'${text.toUpperCase()}' can not be converted to an Boolean`);
  return parsed;
}

// Anything outside the Base64 alphabet, or padding followed by data.
const invalidBase64 = /[^A-Za-z0-9+/=]|=[^=]/;

/**
 * Decodes a JSON blob, rejecting what AWS rejects. Node's decoder is lenient (it skips unknown
 * characters, takes the URL-safe alphabet, reads only the low byte of a UTF-16 unit), so
 * `decodeBase64Blob` accepts its result only if every character was a standard Base64 one —
 * nothing skipped, nothing substituted; the checks for AWS's message run only on failure. It is
 * ~6× faster than checking each character; validate.test.ts compares the two on random strings.
 */
function blobFromBase64(text: string): Buffer {
  const bytes = decodeBase64Blob(text);
  if (bytes) return bytes;
  const notABlob = (reason: string): AwsError =>
    new AwsError('SerializationException', `'${text}' can not be converted to a Blob: ${reason}`);
  if (text.length % 4 !== 0) throw notABlob(`Base64 encoded length is expected a multiple of 4 bytes but found: ${text.length}`);
  const invalid = invalidBase64.exec(text);
  if (invalid) throw notABlob(`Invalid Base64 character: '${invalid[0][0]}'`);
  throw notABlob('Invalid last non-pad Base64 character dectected'); // sic: AWS's spelling
}

/** The bytes of a JSON blob's Base64 text if AWS accepts it (see blobFromBase64), else undefined. */
export function decodeBase64Blob(text: string): Buffer | undefined {
  if (text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  const padding = trailingPadding(text);
  const decodedEverything = bytes.length === (text.length / 4) * 3 - padding;
  const onlyAscii = Buffer.byteLength(text, 'utf8') === text.length;
  const noUrlSafeAlphabet = !text.includes('-') && !text.includes('_');
  return decodedEverything && onlyAscii && noUrlSafeAlphabet && hasZeroPadBits(text, padding) ? bytes : undefined;
}

function trailingPadding(text: string): number {
  let padding = 0;
  while (padding < text.length && text.charCodeAt(text.length - 1 - padding) === 61 /* = */) padding++;
  return padding;
}

/** At most two pad characters, and the bits they leave over in the last data character are zero. */
function hasZeroPadBits(text: string, padding: number): boolean {
  if (padding === 0) return true;
  if (padding > 2) return false;
  const lastData = base64Value(text.charCodeAt(text.length - 1 - padding));
  const unusedBits = padding === 1 ? 0b11 : 0b1111;
  return (lastData & unusedBits) === 0;
}

function base64Value(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  return code === 43 ? 62 : 63; // + or /
}

type ConversionTarget = ScalarNode['kind'] | 'structure' | 'list' | 'map';
type WireKind = 'boolean' | 'number' | 'string';

const truncatingBigNumber = 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber';
const expectedList = 'Expected list or null';
const expectedMap = 'Expected map or null';
const expectedStructure = 'Expected null';

/** AWS's messages for a JSON scalar where another type belongs (kinesalite validations/index.js and test/helpers.js). */
const scalarConversionErrors: Record<ConversionTarget, Partial<Record<WireKind, string>>> = {
  string: {
    boolean: 'class java.lang.Boolean can not be converted to an String',
    number: `${truncatingBigNumber} can not be converted to an String`,
  },
  integer: {
    boolean: 'class java.lang.Boolean can not be converted to an Integer',
    string: 'class java.lang.String can not be converted to an Integer',
  },
  long: {
    boolean: 'class java.lang.Boolean can not be converted to an Long',
    string: 'class java.lang.String can not be converted to an Long',
  },
  double: {
    boolean: 'class java.lang.Boolean can not be converted to an Double',
    string: 'class java.lang.String can not be converted to an Double',
  },
  boolean: { number: `${truncatingBigNumber} can not be converted to an Boolean` },
  blob: {
    boolean: 'class java.lang.Boolean can not be converted to a Blob',
    number: `${truncatingBigNumber} can not be converted to a Blob`,
  },
  timestamp: {
    boolean: 'class java.lang.Boolean can not be converted to milliseconds since epoch',
    string: 'class java.lang.String can not be converted to milliseconds since epoch',
  },
  list: { boolean: expectedList, number: expectedList, string: expectedList },
  map: { boolean: expectedMap, number: expectedMap, string: expectedMap },
  structure: { boolean: expectedStructure, number: expectedStructure, string: expectedStructure },
};

function conversionError(target: ConversionTarget, value: unknown): AwsError {
  return new AwsError('SerializationException', conversionMessage(target, value));
}

function wireKindOf(value: unknown): WireKind | undefined {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'number';
    default:
      return undefined;
  }
}

function conversionMessage(target: ConversionTarget, value: unknown): string {
  const wireKind = wireKindOf(value);
  if (wireKind) return scalarConversionErrors[target][wireKind] ?? 'Unexpected field type';
  if (Array.isArray(value)) return 'Start of list found where not expected';
  // CBOR byte strings and tagged dates have no JSON counterpart, so no recorded AWS wording.
  if (value instanceof Uint8Array || value instanceof Date) return 'Unexpected field type';
  return 'Start of structure or map found where not expected.';
}
