/**
 * The form of kinesis-model.json and firehose-model.json: every operation's request shape from AWS's API model, with
 * each nested shape resolved in place (no references), documentation dropped and only the
 * constraints AWS enforces kept. generate-api-model.ts writes it; validate.ts reads it.
 *
 * Order is meaningful: a structure's members and a string's enum values are listed in the order
 * AWS prints them in a ValidationException, so validate.ts can simply walk them in order.
 */

export interface StructureShape {
  type: 'structure';
  /** The model's shape name; AWS prints a structure inside a list as `<java class>@<hash>`. */
  name: string;
  required?: string[];
  members: Record<string, Shape>;
}

export interface ListShape {
  type: 'list';
  member: Shape;
  min?: number;
  max?: number;
}

export interface MapShape {
  type: 'map';
  key: Shape;
  value: Shape;
  min?: number;
  max?: number;
}

export interface StringShape {
  type: 'string';
  min?: number;
  max?: number;
  /** A Java regular expression that must match the whole value. */
  pattern?: string;
  enum?: string[];
}

/** min/max are byte lengths of the decoded data. */
export interface BlobShape {
  type: 'blob';
  min?: number;
  max?: number;
}

export interface NumberShape {
  type: 'integer' | 'long' | 'double';
  min?: number;
  max?: number;
}

export interface BooleanShape {
  type: 'boolean';
}

export interface TimestampShape {
  type: 'timestamp';
}

export type Shape =
  | StructureShape
  | ListShape
  | MapShape
  | StringShape
  | BlobShape
  | NumberShape
  | BooleanShape
  | TimestampShape;

export interface ServiceModel {
  $comment: string;
  service: { apiVersion: string; targetPrefix: string; uid: string };
  /** Operation name (PascalCase, as in `X-Amz-Target`) → its request shape. */
  operations: Record<string, StructureShape>;
}
