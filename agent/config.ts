/**
 * The agent's configuration: the Amazon Kinesis Agent's `agent.json`, so an existing config runs
 * unchanged, plus Riffle's additions (MQTT flows, compression, spool, KPL aggregation).
 *
 * Kinesis Agent keys (general): `checkpointFile`, `kinesis.endpoint`, `kinesis.region`,
 * `firehose.endpoint`, `awsAccessKeyId`, `awsSecretAccessKey`, `shutdownTimeoutMillis`,
 * `maxSendingThreads`, `flows`. Per flow: `filePattern`, `kinesisStream` | `deliveryStream`,
 * `initialPosition`, `partitionKeyOption`, `maxBufferAgeMillis`, `maxBufferSizeBytes`,
 * `maxBufferSizeRecords`, `multiLineStartPattern`, `skipHeaderLines`, `truncatedRecordTerminator`,
 * `retryInitialBackoffMillis`, `retryMaxBackoffMillis`, `dataProcessingOptions`. Keys the Kinesis
 * Agent has but Riffle does not need (CloudWatch, STS, log settings) are accepted and reported
 * as ignored; any other unknown key is an error that names the file and key.
 *
 * Riffle's additions:
 * - general `mqtt`: `{ "url": "mqtt://127.0.0.1:1883", "username", "password", "clientId" }` —
 *   the device-local broker; `clientId` must be stable (a persistent session keeps QoS 1/2
 *   messages while the agent is down).
 * - general `compression`: `"zstd"` (request bodies to a Riffle collector), `"none"`, or
 *   `"auto"` (default: zstd unless the endpoint is an amazonaws.com host). Where bodies go
 *   zstd-compressed, PutRecords also goes as CBOR 1.1 (data as byte strings, no base64; see
 *   sinks/records-cbor.ts); otherwise, and always for Firehose, as JSON 1.1.
 * - general `spool`: `{ "directory", "maxSizeMB": 64, "whenFull": "backpressure" | "drop-oldest" }`.
 * - per flow, instead of `filePattern`: `"mqtt": { "topics": ["sensors/+/temperature"],
 *   "qos": 1, "partitionKey": { "topicLevel": 2 } | { "jsonField": "deviceId" } }`.
 * - per flow: `"aggregation": true` — KPL-aggregate small records into one Kinesis record.
 * - per flow overrides of `compression` and `spool.whenFull`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, checkBoolean, checkInteger, checkObject, checkRegion, checkString, checkStringList } from '../shared/config-values.js';
import { DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS, DEFAULT_RETRY_MAX_BACKOFF_MILLIS } from '../shared/backoff.js';
import type { Compression } from '../shared/aws-client.js';
import { DEFAULT_MAX_BUFFER_AGE_MILLIS, targetQuotas } from './buffer/batcher.js';

export { ConfigError };

// Kinesis Agent defaults (amazon-kinesis-agent Constants.java, KinesisConstants.java, FirehoseConstants).
const MAX_BUFFER_AGE_RANGE_MILLIS = [1_000, 15 * 60_000] as const;
const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 10_000;
/** Riffle's default: a Pi has few cores and one uplink; the Kinesis Agent's 12 per core is for servers. */
const DEFAULT_MAX_SENDING_THREADS = 4;
const DEFAULT_SPOOL_MB = 64;

/** Kinesis Agent keys with no meaning here (CloudWatch metrics, STS, its own logging). */
const ignoredGeneralKeys = new Set([
  'cloudwatch.emitMetrics',
  'cloudwatch.endpoint',
  'cloudwatch.tagInstance',
  'cloudwatch.metricsBufferTimeMillis',
  'cloudwatch.namespace',
  'cloudwatch.metricsQueueSize',
  'sts.endpoint',
  'assumeRoleARN',
  'assumeRoleExternalId',
  'userDefinedCredentialsProvider.classname',
  'userDefinedCredentialsProvider.location',
  'log.level',
  'log.file',
  'log.maxBackupIndex',
  'log.maxFileSize',
  'log.emitMetrics',
  'log.emitInternalMetrics',
  'log.statusReportingPeriodSeconds',
  'sendingThreadsKeepAliveMillis',
  'sendingThreadsMaxQueueSize',
  'maxSendingThreadsPerCore',
  'maxConnections',
  'connectionTimeoutMillis',
  'connectionTTLMillis',
  'socketTimeoutMillis',
  'useTcpKeepAlive',
  'useHttpGzip',
  'checkpointTimeToLiveDays',
]);
const ignoredFlowKeys = new Set([
  'minTimeBetweenFilePollsMillis',
  'maxTimeBetweenFileTrackerRefreshMillis',
  'waitOnFullPublishQueueMillis',
  'waitOnEmptyPublishQueueMillis',
  'waitOnFullRetryQueueMillis',
  'publishQueueCapacity',
  'fileFooterPattern',
  'log.emitInternalMetrics',
  'aggregatedRecordSizeBytes',
]);

export type WhenSpoolFull = 'backpressure' | 'drop-oldest';

export interface FileSourceConfig {
  kind: 'file';
  filePattern: string;
  initialPosition: 'START_OF_FILE' | 'END_OF_FILE';
  skipHeaderLines: number;
  multiLineStartPattern?: string;
  truncatedRecordTerminator: string;
}

export interface MqttSourceConfig {
  kind: 'mqtt';
  topics: string[];
  qos: 0 | 1 | 2;
  partitionKey?: { topicLevel: number } | { jsonField: string };
}

export interface FlowConfig {
  /** Stable name for logs, status and checkpoints, e.g. `kinesis:sensors:/var/log/app/*.log`. */
  id: string;
  source: FileSourceConfig | MqttSourceConfig;
  destination: { kind: 'kinesis'; stream: string } | { kind: 'firehose'; deliveryStream: string };
  partitionKeyOption: 'RANDOM' | 'DETERMINISTIC';
  maxBufferAgeMillis: number;
  maxBufferSizeBytes: number;
  maxBufferSizeRecords: number;
  retryInitialBackoffMillis: number;
  retryMaxBackoffMillis: number;
  /** Raw `dataProcessingOptions`, validated by agent/processors when the flow is built. */
  dataProcessingOptions: unknown[];
  aggregation: boolean;
  compression: Compression;
  whenSpoolFull: WhenSpoolFull;
}

export interface AgentConfig {
  file: string;
  checkpointFile: string;
  kinesis: { endpoint?: string; region: string };
  firehose: { endpoint?: string; region: string };
  credentials?: { accessKeyId: string; secretAccessKey: string };
  shutdownTimeoutMillis: number;
  maxSendingThreads: number;
  mqtt?: { url: string; username?: string; password?: string; clientId: string };
  spool: { directory: string; maxSizeMB: number; whenFull: WhenSpoolFull };
  compression: Compression;
  flows: FlowConfig[];
  /** Kinesis Agent keys that were present and are ignored, for a startup log line. */
  ignoredKeys: string[];
}

export function loadAgentConfig(file: string, stateDir: string, env: NodeJS.ProcessEnv): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(file, `cannot read config: ${(error as Error).message}`);
  }
  return parseAgentConfig(raw, file, stateDir, env);
}

export function parseAgentConfig(raw: unknown, file: string, stateDir: string, env: NodeJS.ProcessEnv): AgentConfig {
  const top = checkObject(raw, file);
  const at = (key: string) => `${file}: key '${key}'`;
  const ignoredKeys: string[] = [];
  const known = new Set([
    'checkpointFile',
    'kinesis.endpoint',
    'kinesis.region',
    'firehose.endpoint',
    'firehose.region',
    'awsAccessKeyId',
    'awsSecretAccessKey',
    'shutdownTimeoutMillis',
    'maxSendingThreads',
    'mqtt',
    'spool',
    'compression',
    'flows',
  ]);
  for (const key of Object.keys(top)) {
    if (ignoredGeneralKeys.has(key)) ignoredKeys.push(key);
    else if (!known.has(key)) throw new ConfigError(at(key), 'unknown key');
  }
  const region = top['kinesis.region'] !== undefined ? checkRegion(checkString(top['kinesis.region'], at('kinesis.region')), at('kinesis.region')) : (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1');
  const firehoseRegion =
    top['firehose.region'] !== undefined ? checkRegion(checkString(top['firehose.region'], at('firehose.region')), at('firehose.region')) : region;
  const config: AgentConfig = {
    file,
    checkpointFile: top.checkpointFile !== undefined ? checkString(top.checkpointFile, at('checkpointFile')) : join(stateDir, 'checkpoints'),
    kinesis: { region, ...optionalEndpoint(top['kinesis.endpoint'], at('kinesis.endpoint')) },
    firehose: { region: firehoseRegion, ...optionalEndpoint(top['firehose.endpoint'], at('firehose.endpoint')) },
    shutdownTimeoutMillis: top.shutdownTimeoutMillis !== undefined ? checkInteger(top.shutdownTimeoutMillis, at('shutdownTimeoutMillis'), 0, 3_600_000) : DEFAULT_SHUTDOWN_TIMEOUT_MILLIS,
    maxSendingThreads: top.maxSendingThreads !== undefined ? checkInteger(top.maxSendingThreads, at('maxSendingThreads'), 1, 256) : DEFAULT_MAX_SENDING_THREADS,
    spool: parseSpool(top.spool, at('spool'), stateDir),
    compression: top.compression !== undefined ? checkCompression(top.compression, at('compression')) : 'auto',
    flows: [],
    ignoredKeys,
  };
  if ((top.awsAccessKeyId === undefined) !== (top.awsSecretAccessKey === undefined)) {
    throw new ConfigError(at(top.awsAccessKeyId === undefined ? 'awsAccessKeyId' : 'awsSecretAccessKey'), 'awsAccessKeyId and awsSecretAccessKey go together');
  }
  if (top.awsAccessKeyId !== undefined) {
    config.credentials = { accessKeyId: checkString(top.awsAccessKeyId, at('awsAccessKeyId')), secretAccessKey: checkString(top.awsSecretAccessKey, at('awsSecretAccessKey')) };
  }
  if (top.mqtt !== undefined) config.mqtt = parseMqtt(top.mqtt, at('mqtt'));
  if (!Array.isArray(top.flows) || top.flows.length === 0) throw new ConfigError(at('flows'), 'must be a non-empty array of flows');
  top.flows.forEach((flow, i) => config.flows.push(parseFlow(flow, `${file}: flows[${i}]`, config, ignoredKeys)));
  if (config.flows.some((f) => f.source.kind === 'mqtt') && !config.mqtt) {
    throw new ConfigError(at('mqtt'), 'a flow reads MQTT topics, so the general "mqtt" broker connection is required');
  }
  const ids = new Set<string>();
  for (const flow of config.flows) {
    if (ids.has(flow.id)) throw new ConfigError(`${file}: flows`, `two flows are the same (${flow.id})`);
    ids.add(flow.id);
  }
  return config;
}

function parseFlow(raw: unknown, where: string, general: AgentConfig, ignoredKeys: string[]): FlowConfig {
  const flow = checkObject(raw, where);
  const at = (key: string) => `${where}: key '${key}'`;
  const known = new Set([
    'filePattern',
    'mqtt',
    'kinesisStream',
    'deliveryStream',
    'initialPosition',
    'partitionKeyOption',
    'maxBufferAgeMillis',
    'maxBufferSizeBytes',
    'maxBufferSizeRecords',
    'multiLineStartPattern',
    'skipHeaderLines',
    'truncatedRecordTerminator',
    'retryInitialBackoffMillis',
    'retryMaxBackoffMillis',
    'dataProcessingOptions',
    'aggregation',
    'compression',
    'spool',
  ]);
  for (const key of Object.keys(flow)) {
    if (ignoredFlowKeys.has(key)) ignoredKeys.push(`${where}.${key}`);
    else if (!known.has(key)) throw new ConfigError(at(key), 'unknown key');
  }
  if ((flow.kinesisStream === undefined) === (flow.deliveryStream === undefined)) {
    throw new ConfigError(where, 'needs exactly one of "kinesisStream" and "deliveryStream"');
  }
  const destination =
    flow.kinesisStream !== undefined
      ? { kind: 'kinesis' as const, stream: checkStreamName(flow.kinesisStream, at('kinesisStream')) }
      : { kind: 'firehose' as const, deliveryStream: checkStreamName(flow.deliveryStream, at('deliveryStream')) };
  if ((flow.filePattern === undefined) === (flow.mqtt === undefined)) throw new ConfigError(where, 'needs exactly one of "filePattern" and "mqtt"');
  let source: FileSourceConfig | MqttSourceConfig;
  if (flow.filePattern !== undefined) {
    const filePattern = checkString(flow.filePattern, at('filePattern'));
    if (!filePattern.startsWith('/')) throw new ConfigError(at('filePattern'), `must be an absolute path, got ${JSON.stringify(filePattern)}`);
    const initialPosition = flow.initialPosition ?? 'END_OF_FILE';
    if (initialPosition !== 'START_OF_FILE' && initialPosition !== 'END_OF_FILE') throw new ConfigError(at('initialPosition'), 'must be START_OF_FILE or END_OF_FILE');
    source = {
      kind: 'file',
      filePattern,
      initialPosition,
      skipHeaderLines: flow.skipHeaderLines !== undefined ? checkInteger(flow.skipHeaderLines, at('skipHeaderLines'), 0, 1_000_000) : 0,
      truncatedRecordTerminator: flow.truncatedRecordTerminator !== undefined ? checkString(flow.truncatedRecordTerminator, at('truncatedRecordTerminator')) : '\n',
    };
    if (flow.multiLineStartPattern !== undefined) {
      const pattern = checkString(flow.multiLineStartPattern, at('multiLineStartPattern'));
      try {
        new RegExp(pattern);
      } catch (error) {
        throw new ConfigError(at('multiLineStartPattern'), `not a valid regular expression: ${(error as Error).message}`);
      }
      source.multiLineStartPattern = pattern;
    }
  } else {
    source = parseMqttFlow(flow.mqtt, at('mqtt'));
  }
  const isFirehose = destination.kind === 'firehose';
  const quota = targetQuotas[destination.kind];
  const partitionKeyOption = flow.partitionKeyOption ?? 'RANDOM';
  if (partitionKeyOption !== 'RANDOM' && partitionKeyOption !== 'DETERMINISTIC') throw new ConfigError(at('partitionKeyOption'), 'must be RANDOM or DETERMINISTIC');
  const aggregation = flow.aggregation !== undefined ? checkBoolean(flow.aggregation, at('aggregation')) : false;
  if (aggregation && isFirehose) throw new ConfigError(at('aggregation'), 'KPL aggregation applies to Kinesis streams, not Firehose delivery streams');
  if (flow.dataProcessingOptions !== undefined && !Array.isArray(flow.dataProcessingOptions)) throw new ConfigError(at('dataProcessingOptions'), 'must be an array');
  const spoolOverride = flow.spool !== undefined ? checkObject(flow.spool, at('spool')) : undefined;
  const retryInitialBackoffMillis = flow.retryInitialBackoffMillis !== undefined ? checkInteger(flow.retryInitialBackoffMillis, at('retryInitialBackoffMillis'), 1, 3_600_000) : DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS;
  const retryMaxBackoffMillis = flow.retryMaxBackoffMillis !== undefined ? checkInteger(flow.retryMaxBackoffMillis, at('retryMaxBackoffMillis'), 1, 3_600_000) : DEFAULT_RETRY_MAX_BACKOFF_MILLIS;
  if (retryMaxBackoffMillis < retryInitialBackoffMillis) throw new ConfigError(at('retryMaxBackoffMillis'), 'must not be below retryInitialBackoffMillis');
  const target = destination.kind === 'kinesis' ? `kinesis:${destination.stream}` : `firehose:${destination.deliveryStream}`;
  return {
    id: `${target}:${source.kind === 'file' ? source.filePattern : `mqtt:${source.topics.join(',')}`}`,
    source,
    destination,
    partitionKeyOption,
    maxBufferAgeMillis: flow.maxBufferAgeMillis !== undefined ? checkInteger(flow.maxBufferAgeMillis, at('maxBufferAgeMillis'), ...MAX_BUFFER_AGE_RANGE_MILLIS) : DEFAULT_MAX_BUFFER_AGE_MILLIS,
    maxBufferSizeBytes: flow.maxBufferSizeBytes !== undefined ? checkInteger(flow.maxBufferSizeBytes, at('maxBufferSizeBytes'), 1, quota.maxBatchBytes) : quota.maxBatchBytes,
    maxBufferSizeRecords: flow.maxBufferSizeRecords !== undefined ? checkInteger(flow.maxBufferSizeRecords, at('maxBufferSizeRecords'), 1, quota.maxRecords) : quota.maxRecords,
    retryInitialBackoffMillis,
    retryMaxBackoffMillis,
    dataProcessingOptions: (flow.dataProcessingOptions as unknown[] | undefined) ?? [],
    aggregation,
    compression: flow.compression !== undefined ? checkCompression(flow.compression, at('compression')) : general.compression,
    whenSpoolFull: spoolOverride?.whenFull !== undefined ? checkWhenFull(spoolOverride.whenFull, `${at('spool')}.whenFull`) : general.spool.whenFull,
  };
}

function parseMqtt(raw: unknown, where: string): NonNullable<AgentConfig['mqtt']> {
  const mqtt = checkObject(raw, where);
  const url = checkString(mqtt.url, `${where}.url`);
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(url)) throw new ConfigError(`${where}.url`, `must be an mqtt://, mqtts://, ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  const clientId = checkString(mqtt.clientId, `${where}.clientId`);
  return {
    url,
    clientId,
    ...(mqtt.username !== undefined ? { username: checkString(mqtt.username, `${where}.username`) } : {}),
    ...(mqtt.password !== undefined ? { password: checkString(mqtt.password, `${where}.password`) } : {}),
  };
}

function parseMqttFlow(raw: unknown, where: string): MqttSourceConfig {
  const mqtt = checkObject(raw, where);
  const topics = checkStringList(mqtt.topics, `${where}.topics`);
  if (topics.length === 0) throw new ConfigError(`${where}.topics`, 'must name at least one topic filter');
  for (const topic of topics) {
    // MQTT 3.1.1 §4.7.1: '#' only as the last level, '+' only as a whole level.
    const levels = topic.split('/');
    const bad = levels.some((level, i) => (level.includes('#') && (level !== '#' || i !== levels.length - 1)) || (level.includes('+') && level !== '+'));
    if (bad || topic === '') throw new ConfigError(`${where}.topics`, `${JSON.stringify(topic)} is not a valid MQTT topic filter`);
  }
  const qos = mqtt.qos !== undefined ? checkInteger(mqtt.qos, `${where}.qos`, 0, 2) : 1;
  const source: MqttSourceConfig = { kind: 'mqtt', topics, qos: qos as 0 | 1 | 2 };
  if (mqtt.partitionKey !== undefined) {
    const key = checkObject(mqtt.partitionKey, `${where}.partitionKey`);
    if (key.topicLevel !== undefined) source.partitionKey = { topicLevel: checkInteger(key.topicLevel, `${where}.partitionKey.topicLevel`, 1, 64) };
    else if (key.jsonField !== undefined) source.partitionKey = { jsonField: checkString(key.jsonField, `${where}.partitionKey.jsonField`) };
    else throw new ConfigError(`${where}.partitionKey`, 'needs "topicLevel" (1-based) or "jsonField"');
  }
  return source;
}

function parseSpool(raw: unknown, where: string, stateDir: string): AgentConfig['spool'] {
  const spool = raw === undefined ? {} : checkObject(raw, where);
  return {
    directory: spool.directory !== undefined ? checkString(spool.directory, `${where}.directory`) : join(stateDir, 'spool'),
    maxSizeMB: spool.maxSizeMB !== undefined ? checkInteger(spool.maxSizeMB, `${where}.maxSizeMB`, 1, 1_000_000) : DEFAULT_SPOOL_MB,
    whenFull: spool.whenFull !== undefined ? checkWhenFull(spool.whenFull, `${where}.whenFull`) : 'backpressure',
  };
}

function checkCompression(value: unknown, source: string): Compression {
  if (value === 'zstd' || value === 'none' || value === 'auto') return value;
  throw new ConfigError(source, `must be "zstd", "none" or "auto", got ${JSON.stringify(value)}`);
}

function checkWhenFull(value: unknown, source: string): WhenSpoolFull {
  if (value === 'backpressure' || value === 'drop-oldest') return value;
  throw new ConfigError(source, `must be "backpressure" or "drop-oldest", got ${JSON.stringify(value)}`);
}

/**
 * The Kinesis Agent's packaged agent.json ships `"kinesis.endpoint": ""` and means "the
 * region's default endpoint", so an empty string is the same as no key.
 */
function optionalEndpoint(value: unknown, source: string): { endpoint?: string } {
  if (value === undefined || value === '') return {};
  return { endpoint: checkEndpoint(value, source) };
}

function checkEndpoint(value: unknown, source: string): string {
  const text = checkString(value, source);
  // The Kinesis Agent accepts a bare host name ("kinesis.us-east-1.amazonaws.com") and means https.
  const url = /^[a-z]+:\/\//i.test(text) ? text : `https://${text}`;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http or https');
  } catch {
    throw new ConfigError(source, `must be an http(s) URL or host name, got ${JSON.stringify(text)}`);
  }
  return url;
}

function checkStreamName(value: unknown, source: string): string {
  const name = checkString(value, source);
  // Kinesis and Firehose stream names: 1–128 (Firehose 1–64) of [a-zA-Z0-9_.-].
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(name)) throw new ConfigError(source, `is not a valid stream name: ${JSON.stringify(name)}`);
  return name;
}
