/**
 * DataFormatConversion: JSON records → one Apache Parquet file per object (ParquetSerDe), with
 * the table schema Firehose would read from AWS Glue (SchemaConfiguration DatabaseName/TableName).
 * There is no Glue on an appliance: the schema is the file
 * `<data-dir>/glue/<DatabaseName>/<TableName>.json`, in Glue's own shape
 * `{"Columns": [{"Name": "device", "Type": "string"}, …]}`, with Hive types string, varchar,
 * char, int, smallint, tinyint, bigint, double, float, decimal, boolean, timestamp, date.
 *
 * Records are read as OpenX JSON SerDe does by default: keys match columns case-insensitively,
 * missing columns are null. A record that is not a JSON object, or whose value cannot be the
 * column's type, is not converted: it goes to the error output as `format-conversion-failed`.
 * Written with @dsnp/parquetjs (pure JavaScript).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import parquet from '@dsnp/parquetjs';
import { AwsError } from '../../shared/errors.js';
import type { DeliveryRecord } from './destinations/destination.js';
import { DeliveryFailure } from './destinations/destination.js';

export interface DataFormatConversionConfiguration {
  Enabled?: boolean;
  SchemaConfiguration?: { DatabaseName?: string; TableName?: string };
  InputFormatConfiguration?: { Deserializer?: { OpenXJsonSerDe?: object; HiveJsonSerDe?: object } };
  OutputFormatConfiguration?: { Serializer?: { ParquetSerDe?: { Compression?: 'UNCOMPRESSED' | 'GZIP' | 'SNAPPY' }; OrcSerDe?: object } };
}

interface Column {
  name: string;
  kind: 'string' | 'integer' | 'double' | 'boolean' | 'timestamp';
  parquetType: 'UTF8' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP_MILLIS';
}

const hiveTypes: Record<string, Pick<Column, 'kind' | 'parquetType'>> = {
  string: { kind: 'string', parquetType: 'UTF8' },
  varchar: { kind: 'string', parquetType: 'UTF8' },
  char: { kind: 'string', parquetType: 'UTF8' },
  int: { kind: 'integer', parquetType: 'INT64' },
  smallint: { kind: 'integer', parquetType: 'INT64' },
  tinyint: { kind: 'integer', parquetType: 'INT64' },
  bigint: { kind: 'integer', parquetType: 'INT64' },
  double: { kind: 'double', parquetType: 'DOUBLE' },
  float: { kind: 'double', parquetType: 'DOUBLE' },
  decimal: { kind: 'double', parquetType: 'DOUBLE' },
  boolean: { kind: 'boolean', parquetType: 'BOOLEAN' },
  timestamp: { kind: 'timestamp', parquetType: 'TIMESTAMP_MILLIS' },
  date: { kind: 'timestamp', parquetType: 'TIMESTAMP_MILLIS' },
};

/** CreateDeliveryStream/UpdateDestination checks (AWS: conversion needs UNCOMPRESSED objects — Parquet compresses itself). */
export function checkDataFormatConversion(config: DataFormatConversionConfiguration | undefined, compressionFormat: string): void {
  if (config?.Enabled === false || config === undefined) return;
  if (!config.SchemaConfiguration?.DatabaseName || !config.SchemaConfiguration.TableName) {
    throw new AwsError('InvalidArgumentException', 'SchemaConfiguration needs DatabaseName and TableName.');
  }
  if (!config.OutputFormatConfiguration?.Serializer?.ParquetSerDe) {
    throw new AwsError('InvalidArgumentException', 'Riffle converts to Parquet only (OutputFormatConfiguration.Serializer.ParquetSerDe).');
  }
  if (compressionFormat !== 'UNCOMPRESSED') {
    throw new AwsError('InvalidArgumentException', 'CompressionFormat must be UNCOMPRESSED when data format conversion is enabled.');
  }
}

export class ParquetConverter {
  private columns: Column[] | undefined;

  constructor(
    private readonly config: DataFormatConversionConfiguration,
    private readonly schemaDir: string,
  ) {}

  /** The table's columns, read from the schema file on first use (a missing file is retried: the operator can add it). */
  private async loadColumns(): Promise<Column[]> {
    if (this.columns) return this.columns;
    const { DatabaseName, TableName } = this.config.SchemaConfiguration!;
    const path = join(this.schemaDir, DatabaseName!, `${TableName}.json`);
    let table: { Columns?: Array<{ Name: string; Type: string }> };
    try {
      table = JSON.parse(await fsp.readFile(path, 'utf8')) as typeof table;
    } catch (error) {
      throw new DeliveryFailure('DataFormatConversion.SchemaUnavailable', `Cannot read the table schema ${path}: ${(error as Error).message}`);
    }
    this.columns = (table.Columns ?? []).map((column) => {
      const base = column.Type.toLowerCase().replace(/\(.*\)$/, '');
      const type = hiveTypes[base];
      if (!type) throw new DeliveryFailure('DataFormatConversion.UnsupportedType', `Column ${column.Name} has type ${column.Type}, which Riffle cannot write.`);
      return { name: column.Name, ...type };
    });
    return this.columns;
  }

  /** One Parquet file of the records that convert, and the ones that do not (with why). */
  async convert(records: readonly DeliveryRecord[]): Promise<{ body: Buffer | undefined; failed: Array<{ record: DeliveryRecord; reason: string }> }> {
    const columns = await this.loadColumns();
    const rows: Array<Record<string, unknown>> = [];
    const failed: Array<{ record: DeliveryRecord; reason: string }> = [];
    for (const record of records) {
      try {
        rows.push(toRow(columns, record.data));
      } catch (error) {
        failed.push({ record, reason: (error as Error).message });
      }
    }
    if (rows.length === 0) return { body: undefined, failed };
    const compression = this.config.OutputFormatConfiguration?.Serializer?.ParquetSerDe?.Compression ?? 'SNAPPY';
    const schema = new parquet.ParquetSchema(
      Object.fromEntries(columns.map((column) => [column.name, { type: column.parquetType, optional: true, compression }])),
    );
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    // The writer only calls write() and end(); its type asks for a whole fs.WriteStream.
    const writer = await parquet.ParquetWriter.openStream(schema, sink as unknown as Parameters<typeof parquet.ParquetWriter.openStream>[1]);
    for (const row of rows) await writer.appendRow(row);
    await writer.close();
    return { body: Buffer.concat(chunks), failed };
  }
}

function toRow(columns: readonly Column[], data: Buffer): Record<string, unknown> {
  const parsed: unknown = JSON.parse(data.toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the record is not a JSON object');
  // OpenX JSON SerDe: keys are matched case-insensitively.
  const byLowerKey = new Map(Object.entries(parsed).map(([key, value]) => [key.toLowerCase(), value]));
  const row: Record<string, unknown> = {};
  for (const column of columns) {
    const value = byLowerKey.get(column.name.toLowerCase());
    if (value === null || value === undefined) continue;
    row[column.name] = coerce(column, value);
  }
  return row;
}

function coerce(column: Column, value: unknown): unknown {
  const fail = () => new Error(`${JSON.stringify(value)} is not a ${column.kind} (column ${column.name})`);
  switch (column.kind) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isInteger(number)) throw fail();
      return BigInt(number);
    }
    case 'double': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) throw fail();
      return number;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw fail();
    case 'timestamp': {
      const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
      if (!Number.isFinite(ms)) throw fail();
      return new Date(ms);
    }
  }
}
