/**
 * Redshift destination, loading into Amazon Redshift or plain PostgreSQL (same wire protocol):
 * as Firehose does, each batch is first staged as an object in the S3Configuration bucket (named
 * and compressed as any S3 object), then loaded with one COPY into CopyCommand.DataTableName
 * (DataTableColumns) — `COPY … FROM STDIN`, fed the staged bytes, in one transaction: a batch
 * is loaded whole or not at all. A failed load is retried for RetryOptions.DurationInSeconds
 * (default 3,600 s), then its records go to the S3 error output as `redshift-failed`.
 *
 * CopyOptions is Redshift COPY syntax; the subset PostgreSQL can do is translated: CSV,
 * DELIMITER 'c', NULL AS 's', IGNOREHEADER 1 (HEADER), QUOTE [AS] 'c', ESCAPE; GZIP/ZSTD/… are
 * implied by the staging compression. Anything else is refused at configuration time.
 */
import { AwsError } from '../../../shared/errors.js';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { s3BufferingLimits, bufferingOf, normalizeBufferingHints } from '../buffering.js';
import { DeliveryFailure, mergeWithS3Update, type DeliveryRecord, type DestinationContext, type DestinationSpec } from './destination.js';
import { describeS3Backed, normalizeS3Backed, S3BackedDestination, type S3BackedConfiguration } from './s3-backed.js';

interface RedshiftConfiguration extends S3BackedConfiguration {
  RoleARN: string;
  ClusterJDBCURL: string;
  CopyCommand: { DataTableName: string; DataTableColumns?: string; CopyOptions?: string };
  Username?: string;
  Password?: string;
  S3BackupMode: 'Disabled' | 'Enabled';
}

// RedshiftRetryOptions: DurationInSeconds 0–7200, default 3600 (Firehose API reference).
const DEFAULT_RETRY_SECONDS = 3600;
const JDBC_URL = /^jdbc:(?:redshift|postgresql):\/\/([A-Za-z0-9.-]+):(\d{1,5})\/([a-zA-Z0-9_$-]+)$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/** Redshift COPY options → PostgreSQL COPY options, or an error naming what has no equivalent. */
export function translateCopyOptions(options: string | undefined): string[] {
  const translated: string[] = [];
  const tokens = (options ?? '').replace(/;\s*$/, '').match(/'(?:[^']|'')*'|\S+/g) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]!.toUpperCase();
    const quoted = () => {
      let next = tokens[++i];
      if (next?.toUpperCase() === 'AS') next = tokens[++i];
      if (!next || !next.startsWith("'")) throw new AwsError('InvalidArgumentException', `CopyOptions: ${word} needs a quoted value.`);
      return next;
    };
    switch (word) {
      case 'CSV':
        translated.push('FORMAT csv');
        break;
      case 'DELIMITER':
        translated.push(`DELIMITER ${quoted()}`);
        break;
      case 'NULL':
        translated.push(`NULL ${quoted()}`);
        break;
      case 'QUOTE':
        translated.push(`QUOTE ${quoted()}`);
        break;
      case 'IGNOREHEADER': {
        const lines = tokens[++i];
        if (lines !== '1') throw new AwsError('InvalidArgumentException', 'CopyOptions: PostgreSQL can skip exactly one header line (IGNOREHEADER 1).');
        translated.push('HEADER true');
        break;
      }
      case 'ESCAPE':
        // Redshift's ESCAPE enables backslash escapes, which PostgreSQL's text format always has.
        break;
      case 'GZIP':
      case 'ZSTD':
      case 'BZIP2':
      case 'LZOP':
        // The staged object is decompressed by Riffle before COPY (its compression is S3Configuration's).
        break;
      default:
        throw new AwsError('InvalidArgumentException', `CopyOptions: ${tokens[i]} has no PostgreSQL COPY equivalent in Riffle.`);
    }
  }
  return translated;
}

function normalizeRedshift(raw: Record<string, unknown>): Record<string, unknown> {
  const config = raw as Partial<RedshiftConfiguration>;
  if (!config.ClusterJDBCURL || !JDBC_URL.test(config.ClusterJDBCURL)) {
    throw new AwsError('InvalidArgumentException', `ClusterJDBCURL ${config.ClusterJDBCURL} is not jdbc:postgresql://host:port/database.`);
  }
  const table = config.CopyCommand?.DataTableName;
  if (!table || !IDENTIFIER.test(table)) throw new AwsError('InvalidArgumentException', `CopyCommand.DataTableName ${table} is not a table name.`);
  const columns = config.CopyCommand?.DataTableColumns;
  if (columns !== undefined && !columns.split(',').every((column) => IDENTIFIER.test(column.trim()))) {
    throw new AwsError('InvalidArgumentException', `CopyCommand.DataTableColumns ${columns} is not a comma-separated list of column names.`);
  }
  translateCopyOptions(config.CopyCommand?.CopyOptions);
  // Source-record backup (S3BackupConfiguration) is not implemented: refuse rather than silently skip it.
  if (config.S3BackupMode === 'Enabled') throw new AwsError('InvalidArgumentException', 'S3BackupMode Enabled (source record backup) is not supported by Riffle yet.');
  const shared = normalizeS3Backed(config, { retrySeconds: DEFAULT_RETRY_SECONDS, backupMode: 'Disabled' });
  const prefix = shared.S3Configuration.Prefix;
  // Redshift: the intermediate bucket's prefix cannot hold expressions (Firehose custom prefix rules).
  if (typeof prefix === 'string' && prefix.includes('!{')) throw new AwsError('InvalidArgumentException', 'The S3Configuration Prefix of a Redshift destination cannot contain expressions.');
  return { ...config, ...shared };
}

class RedshiftDestination extends S3BackedDestination {
  readonly deliveryErrorType = 'redshift-failed';
  private readonly connection: pg.ClientConfig;
  private readonly copySql: string;

  constructor(config: RedshiftConfiguration, context: DestinationContext) {
    const s3 = config.S3Configuration as { BufferingHints?: { SizeInMBs?: number; IntervalInSeconds?: number } };
    // Firehose buffers a Redshift destination by its S3Configuration's hints (the staging objects).
    super(config, bufferingOf(normalizeBufferingHints(s3.BufferingHints, s3BufferingLimits, 'Redshift')), context);
    const [, host, port, database] = JDBC_URL.exec(config.ClusterJDBCURL)!;
    this.connection = {
      host,
      port: Number(port),
      database,
      ...(config.Username !== undefined ? { user: config.Username } : {}),
      ...(config.Password !== undefined ? { password: config.Password } : {}),
      connectionTimeoutMillis: 30_000,
    };
    const { DataTableName, DataTableColumns, CopyOptions } = config.CopyCommand;
    const columns = DataTableColumns ? ` (${DataTableColumns.split(',').map((column) => column.trim()).join(', ')})` : '';
    const options = translateCopyOptions(CopyOptions);
    this.copySql = `COPY ${DataTableName}${columns} FROM STDIN${options.length ? ` WITH (${options.join(', ')})` : ''}`;
  }

  async deliver(records: readonly DeliveryRecord[]): Promise<void> {
    // Stage first (Firehose loads from the intermediate S3 objects), then load the same bytes.
    await this.s3.deliver(records);
    const client = new pg.Client(this.connection);
    try {
      await client.connect();
      await pipeline(Readable.from(records.map((record) => record.data)), client.query(copyFrom(this.copySql)));
    } catch (error) {
      throw new DeliveryFailure('Redshift.CopyFailed', `COPY into the table failed: ${(error as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

export const redshiftDestination: DestinationSpec = {
  kind: 'Redshift',
  metricsName: 'Redshift',
  configurationMember: 'RedshiftDestinationConfiguration',
  updateMember: 'RedshiftDestinationUpdate',
  descriptionMember: 'RedshiftDestinationDescription',
  normalize: normalizeRedshift,
  merge: (current, update) => normalizeRedshift(mergeWithS3Update(current, update)),
  describe(config) {
    // Describe never shows the password; the staging bucket is an S3 description.
    const { Password: _password, ...rest } = config;
    return describeS3Backed(rest);
  },
  create: (config, context) => new RedshiftDestination(config as unknown as RedshiftConfiguration, context),
};
