/**
 * Collector configuration: embedded defaults < config file (`--config`, JSON) < `RIFFLE_*`
 * environment < command-line flags. Every problem is reported with where it came from (the file
 * and key, the variable, or the flag) and stops the start; nothing half-starts.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { AccessKeyConfig } from './auth.js';
import type { S3ApiSettings } from './delivery/object-store.js';
import { ConfigError, checkBoolean, checkInteger, checkObject, checkRegion, checkString, checkStringList } from '../shared/config-values.js';
import { checkEventSourceMappings, type EventSourceMapping } from './consumers/functions/config.js';
import type { ShardLimitsSetting } from './store/throughput.js';
import { isPasswordHash, type AclAccess, type AclEntry, type DeviceConfig } from './mqtt/devices.js';
import { RuleDefinitionError, parseRule, type TopicRule } from './mqtt/rules/rule.js';

export { ConfigError };

export interface CollectorConfig {
  dataDir: string;
  host: string;
  port: number;
  mqttPort: number;
  mqtt: MqttConfig;
  tls?: { certFile: string; keyFile: string };
  shardLimits: ShardLimitsSetting;
  region: string;
  accountId: string;
  /** How long streams stay CREATING / UPDATING / DELETING. */
  statusDelayMs: number;
  shardLimit: number;
  onDemandStreamCountLimit: number;
  accessKeys: AccessKeyConfig[];
  insecure: boolean;
  /** Firehose S3 destinations use this S3 API instead of `<data-dir>/s3/<bucket>/`. */
  s3?: S3ApiSettings;
  /** Hosted functions: event source mappings (config file only; see collector/consumers/functions). */
  functions: EventSourceMapping[];
}

export interface MqttConfig {
  /** MQTT over TLS, served when the collector has a certificate. */
  tlsPort: number;
  /** PEM CA file: client certificates it signed log in on the TLS listener as their CN. */
  clientCaFile?: string;
  /** Devices allowed to connect; none: the broker is open (loopback only, unless --insecure). */
  devices: DeviceConfig[];
  /** mosquitto-style patterns for devices without their own `acl`. */
  acl: AclEntry[];
  rules: TopicRule[];
  /** Messages kept per offline persistent session; newer ones are dropped and counted. */
  queueLimit: number;
  /** A persistent session offline this long is removed with its queue. */
  sessionExpirySeconds: number;
}

export const defaultConfig: CollectorConfig = {
  dataDir: './data',
  host: '127.0.0.1',
  port: 4567,
  mqttPort: 1883,
  mqtt: {
    tlsPort: 8883,
    devices: [],
    acl: [],
    rules: [],
    // mosquitto's max_queued_messages default is 1000 (mosquitto.conf(5)).
    queueLimit: 1000,
    // A week: a device that has been away longer is assumed gone (AWS IoT keeps persistent sessions 1 h–7 d).
    sessionExpirySeconds: 7 * 24 * 3600,
  },
  shardLimits: { enabled: true, multiplier: 1 },
  region: 'us-east-1',
  accountId: '000000000000',
  statusDelayMs: 500,
  // Kinesis' default account quota is 500 shards (200 in smaller regions); an appliance is sized for 1,000.
  shardLimit: 1000,
  onDemandStreamCountLimit: 50,
  accessKeys: [],
  insecure: false,
  functions: [],
};


export const usage = `Usage: riffle-collector [options]

Runs the Riffle collector: the Kinesis Data Streams API on a durable local store.

Options (flags beat RIFFLE_* environment variables, which beat the config file):
  --config FILE             JSON config file (env RIFFLE_CONFIG)
  --data-dir DIR            where streams and metadata live (RIFFLE_DATA_DIR, default ./data)
  --host ADDR               address to listen on (RIFFLE_HOST, default 127.0.0.1)
  --port N                  API port: HTTP/1.1, HTTP/2 and TLS (RIFFLE_PORT, default 4567)
  --mqtt-port N             MQTT port (RIFFLE_MQTT_PORT, default 1883)
  --mqtt-tls-port N         MQTT over TLS port, with --tls-cert (RIFFLE_MQTT_TLS_PORT, default 8883)
  --tls-cert FILE           PEM certificate; with --tls-key serves TLS (RIFFLE_TLS_CERT)
  --tls-key FILE            PEM private key (RIFFLE_TLS_KEY)
  --shard-limits on|off|X   per-shard throughput enforcement, X multiplies the Kinesis limits
                            (RIFFLE_SHARD_LIMITS, default on)
  --region NAME             region in ARNs (RIFFLE_REGION, default us-east-1)
  --status-delay-ms N       how long CREATING/UPDATING/DELETING last (RIFFLE_STATUS_DELAY_MS, default 500)
  --s3-endpoint URL         deliver Firehose S3 destinations through this S3 API instead of
                            <data-dir>/s3/<bucket>/ (RIFFLE_S3_ENDPOINT; credentials from the
                            config file's s3 key or the AWS SDK's default chain)
  --insecure                allow a non-loopback address without access keys or MQTT devices
                            (RIFFLE_INSECURE=1)
  -h, --help                this text

Commands:
  riffle-collector device add NAME [--config FILE] [--publish PATTERN]... [--subscribe PATTERN]...
                            adds an MQTT device to the config file and prints its password

Config file keys: dataDir, host, port, mqttPort, tls {certFile, keyFile}, shardLimits, region,
accountId, statusDelayMs, shardLimit, onDemandStreamCountLimit, insecure, s3 { endpoint, region,
accessKeyId, secretAccessKey, forcePathStyle (default true) }, functions (hosted functions:
Lambda-style event source mappings, see the README), and accessKeys:
[{ "accessKeyId", "secretAccessKey", "name", "policy": { "actions": ["kinesis:PutRecord*"],
"resources": ["arn:aws:kinesis:*:*:stream/device-*"] } }],
and mqtt: { tlsPort, clientCaFile, queueLimit, sessionExpirySeconds, devices: [{ "username", "passwordHash",
"acl": [{ "access": "read|write|readwrite", "pattern": "sensors/%u/#" }] }], acl: [...],
rules: [see README, "MQTT topic rules"] }.
`;

const flagOptions = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'mqtt-port': { type: 'string' },
  'mqtt-tls-port': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'shard-limits': { type: 'string' },
  region: { type: 'string' },
  'status-delay-ms': { type: 'string' },
  insecure: { type: 'boolean' },
  's3-endpoint': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type LoadResult = { help: true } | { help: false; config: CollectorConfig };

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): LoadResult {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false });
  } catch (error) {
    throw new ConfigError('command line', (error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) return { help: true };

  const config: CollectorConfig = structuredClone(defaultConfig);
  const file = flags.config ?? env.RIFFLE_CONFIG;
  if (file !== undefined) applyFile(config, file);

  const layers: Array<[string, (name: string) => string | undefined]> = [
    ['environment', (name) => env[`RIFFLE_${name.toUpperCase().replaceAll('-', '_')}`]],
    ['command line', (name) => {
      const value = flags[name as keyof typeof flags];
      return typeof value === 'boolean' ? String(value) : value;
    }],
  ];
  for (const [layer, read] of layers) {
    const set = (name: string, apply: (value: string, source: string) => void) => {
      const value = read(name);
      if (value !== undefined) apply(value, layer === 'environment' ? `environment RIFFLE_${name.toUpperCase().replaceAll('-', '_')}` : `${layer} --${name}`);
    };
    set('data-dir', (v) => (config.dataDir = v));
    set('host', (v, source) => (config.host = checkHost(v, source)));
    set('port', (v, source) => (config.port = checkPort(v, source)));
    set('mqtt-port', (v, source) => (config.mqttPort = checkPort(v, source)));
    set('mqtt-tls-port', (v, source) => (config.mqtt.tlsPort = checkPort(v, source)));
    set('tls-cert', (v) => (config.tls = { certFile: v, keyFile: config.tls?.keyFile ?? '' }));
    set('tls-key', (v) => (config.tls = { certFile: config.tls?.certFile ?? '', keyFile: v }));
    set('shard-limits', (v, source) => (config.shardLimits = checkShardLimits(v, source)));
    set('region', (v, source) => (config.region = checkRegion(v, source)));
    set('status-delay-ms', (v, source) => (config.statusDelayMs = checkInteger(v, source, 0, 3_600_000)));
    set('insecure', (v, source) => (config.insecure = checkBoolean(v, source)));
    set('s3-endpoint', (v, source) => (config.s3 = { ...(config.s3 ?? { region: config.region, forcePathStyle: true }), endpoint: checkUrl(v, source) }));
  }
  if (config.tls && (!config.tls.certFile || !config.tls.keyFile)) {
    throw new ConfigError('tls', 'a certificate and a key are both needed (--tls-cert and --tls-key)');
  }
  if (!isLoopback(config.host) && config.accessKeys.length === 0 && !config.insecure) {
    throw new ConfigError(
      'host',
      `${config.host} is not a loopback address and no accessKeys are configured: refusing to serve an open API to the network. Configure accessKeys or pass --insecure.`,
    );
  }
  if (config.mqtt.clientCaFile !== undefined && !config.tls) {
    throw new ConfigError('mqtt.clientCaFile', 'client certificates need the TLS listener: give the collector --tls-cert and --tls-key');
  }
  if (!isLoopback(config.host) && config.mqtt.devices.length === 0 && config.mqtt.clientCaFile === undefined && !config.insecure) {
    throw new ConfigError(
      'mqtt.devices',
      `${config.host} is not a loopback address and no MQTT devices are configured: refusing to run an open MQTT broker on the network. Add devices (riffle-collector device add NAME) or pass --insecure.`,
    );
  }
  return { help: false, config };
}

function applyFile(config: CollectorConfig, file: string): void {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(file, `cannot read config: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, 'the config must be a JSON object');
  const known = new Set(['dataDir', 'host', 'port', 'mqttPort', 'tls', 'shardLimits', 'region', 'accountId', 'statusDelayMs', 'shardLimit', 'onDemandStreamCountLimit', 'accessKeys', 'insecure', 'mqtt', 's3', 'functions']);
  for (const [key, value] of Object.entries(raw)) {
    const source = `${file}: key '${key}'`;
    if (!known.has(key)) throw new ConfigError(file, `unknown key '${key}' (known: ${[...known].join(', ')})`);
    switch (key) {
      case 'dataDir':
        config.dataDir = checkString(value, source);
        break;
      case 'host':
        config.host = checkHost(checkString(value, source), source);
        break;
      case 'port':
        config.port = checkPort(value, source);
        break;
      case 'mqttPort':
        config.mqttPort = checkPort(value, source);
        break;
      case 'tls': {
        const tls = checkObject(value, source);
        config.tls = { certFile: checkString(tls.certFile, `${source}.certFile`), keyFile: checkString(tls.keyFile, `${source}.keyFile`) };
        break;
      }
      case 'shardLimits':
        config.shardLimits = checkShardLimits(value, source);
        break;
      case 'region':
        config.region = checkRegion(checkString(value, source), source);
        break;
      case 'accountId': {
        const id = checkString(value, source);
        if (!/^\d{12}$/.test(id)) throw new ConfigError(source, 'must be 12 digits');
        config.accountId = id;
        break;
      }
      case 'statusDelayMs':
        config.statusDelayMs = checkInteger(value, source, 0, 3_600_000);
        break;
      case 'shardLimit':
        config.shardLimit = checkInteger(value, source, 1, 100_000);
        break;
      case 'onDemandStreamCountLimit':
        config.onDemandStreamCountLimit = checkInteger(value, source, 0, 10_000);
        break;
      case 'insecure':
        config.insecure = checkBoolean(value, source);
        break;
      case 'accessKeys':
        config.accessKeys = checkAccessKeys(value, source);
        break;
      case 'mqtt':
        config.mqtt = checkMqtt(value, source, config.mqtt);
        break;
      case 's3':
        config.s3 = checkS3(value, source, config.region);
        break;
      case 'functions':
        config.functions = checkEventSourceMappings(value, source, dirname(file));
        break;
    }
  }
}

function checkAccessKeys(value: unknown, source: string): AccessKeyConfig[] {
  if (!Array.isArray(value)) throw new ConfigError(source, 'must be an array of access keys');
  return value.map((item, i) => {
    const where = `${source}[${i}]`;
    const entry = checkObject(item, where);
    const key: AccessKeyConfig = {
      accessKeyId: checkString(entry.accessKeyId, `${where}.accessKeyId`),
      secretAccessKey: checkString(entry.secretAccessKey, `${where}.secretAccessKey`),
    };
    if (entry.name !== undefined) key.name = checkString(entry.name, `${where}.name`);
    if (entry.policy !== undefined) {
      const policy = checkObject(entry.policy, `${where}.policy`);
      key.policy = { actions: checkStringList(policy.actions, `${where}.policy.actions`), resources: checkStringList(policy.resources, `${where}.policy.resources`) };
    }
    return key;
  });
}

function checkMqtt(value: unknown, source: string, defaults: MqttConfig): MqttConfig {
  const mqtt = checkObject(value, source);
  const known = ['tlsPort', 'clientCaFile', 'devices', 'acl', 'rules', 'queueLimit', 'sessionExpirySeconds'];
  for (const key of Object.keys(mqtt)) if (!known.includes(key)) throw new ConfigError(source, `unknown key '${key}' (known: ${known.join(', ')})`);
  const result = { ...defaults };
  if (mqtt.tlsPort !== undefined) result.tlsPort = checkPort(mqtt.tlsPort, `${source}.tlsPort`);
  if (mqtt.clientCaFile !== undefined) result.clientCaFile = checkString(mqtt.clientCaFile, `${source}.clientCaFile`);
  if (mqtt.queueLimit !== undefined) result.queueLimit = checkInteger(mqtt.queueLimit, `${source}.queueLimit`, 0, 10_000_000);
  if (mqtt.sessionExpirySeconds !== undefined) result.sessionExpirySeconds = checkInteger(mqtt.sessionExpirySeconds, `${source}.sessionExpirySeconds`, 1, 10 * 365 * 24 * 3600);
  if (mqtt.acl !== undefined) result.acl = checkAcl(mqtt.acl, `${source}.acl`);
  if (mqtt.devices !== undefined) {
    if (!Array.isArray(mqtt.devices)) throw new ConfigError(`${source}.devices`, 'must be an array of devices');
    const seen = new Set<string>();
    result.devices = mqtt.devices.map((item, i) => {
      const where = `${source}.devices[${i}]`;
      const entry = checkObject(item, where);
      const username = checkString(entry.username, `${where}.username`);
      if (seen.has(username)) throw new ConfigError(`${where}.username`, `device ${username} is listed twice`);
      seen.add(username);
      if (entry.password !== undefined) throw new ConfigError(`${where}.password`, 'plain-text passwords are not accepted; store a passwordHash (riffle-collector device add prints one)');
      const passwordHash = checkString(entry.passwordHash, `${where}.passwordHash`);
      if (!isPasswordHash(passwordHash)) throw new ConfigError(`${where}.passwordHash`, 'must be scrypt$N$r$p$salt$hash as riffle-collector device add writes it');
      return { username, passwordHash, ...(entry.acl === undefined ? {} : { acl: checkAcl(entry.acl, `${where}.acl`) }) };
    });
  }
  if (mqtt.rules !== undefined) {
    if (!Array.isArray(mqtt.rules)) throw new ConfigError(`${source}.rules`, 'must be an array of rules');
    const names = new Set<string>();
    result.rules = mqtt.rules.map((item, i) => {
      try {
        const rule = parseRule(item, `rules[${i}]`);
        if (names.has(rule.name)) throw new RuleDefinitionError(`rules[${i}].name: rule ${rule.name} is defined twice`);
        names.add(rule.name);
        return rule;
      } catch (error) {
        if (error instanceof RuleDefinitionError) throw new ConfigError(source, error.message);
        throw error;
      }
    });
  }
  return result;
}

const aclAccess = new Set<AclAccess>(['read', 'write', 'readwrite']);

function checkAcl(value: unknown, source: string): AclEntry[] {
  if (!Array.isArray(value)) throw new ConfigError(source, 'must be an array of { access, pattern }');
  return value.map((item, i) => {
    const entry = checkObject(item, `${source}[${i}]`);
    const access = entry.access as AclAccess;
    if (!aclAccess.has(access)) throw new ConfigError(`${source}[${i}].access`, 'must be read, write or readwrite');
    return { access, pattern: checkString(entry.pattern, `${source}[${i}].pattern`) };
  });
}

function checkS3(value: unknown, source: string, defaultRegion: string): S3ApiSettings {
  const entry = checkObject(value, source);
  const settings: S3ApiSettings = {
    endpoint: checkUrl(checkString(entry.endpoint, `${source}.endpoint`), `${source}.endpoint`),
    region: entry.region === undefined ? defaultRegion : checkRegion(checkString(entry.region, `${source}.region`), `${source}.region`),
    forcePathStyle: entry.forcePathStyle === undefined ? true : checkBoolean(entry.forcePathStyle, `${source}.forcePathStyle`),
  };
  if ((entry.accessKeyId === undefined) !== (entry.secretAccessKey === undefined)) throw new ConfigError(source, 'accessKeyId and secretAccessKey go together');
  if (entry.accessKeyId !== undefined) {
    settings.credentials = { accessKeyId: checkString(entry.accessKeyId, `${source}.accessKeyId`), secretAccessKey: checkString(entry.secretAccessKey, `${source}.secretAccessKey`) };
  }
  return settings;
}

function checkUrl(value: string, source: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new ConfigError(source, `must be an http(s) URL, got ${JSON.stringify(value)}`);
}

function checkPort(value: unknown, source: string): number {
  return checkInteger(value, source, 0, 65535);
}


function checkHost(value: string, source: string): string {
  if (value === 'localhost' || isIP(value) !== 0) return value;
  throw new ConfigError(source, `must be an IP address or localhost, got ${JSON.stringify(value)}`);
}


function checkShardLimits(value: unknown, source: string): ShardLimitsSetting {
  if (value === 'on' || value === true) return { enabled: true, multiplier: 1 };
  if (value === 'off' || value === false) return { enabled: false };
  const multiplier = typeof value === 'string' ? Number(value) : value;
  if (typeof multiplier === 'number' && Number.isFinite(multiplier) && multiplier > 0) return { enabled: true, multiplier };
  throw new ConfigError(source, `must be on, off or a positive multiplier, got ${JSON.stringify(value)}`);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
