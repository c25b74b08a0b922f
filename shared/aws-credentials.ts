/**
 * Where AWS credentials come from, first match wins — the order of the Kinesis Agent and the AWS
 * SDKs, minus the sources a device does not have (EC2 instance roles, STS):
 *
 *  1. keys the caller was configured with (the agent: `awsAccessKeyId` / `awsSecretAccessKey` in
 *     agent.json);
 *  2. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`;
 *  3. the shared credentials file, `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`),
 *     profile `AWS_PROFILE` or `default`: `aws_access_key_id`, `aws_secret_access_key`,
 *     optionally `aws_session_token`.
 *
 * The shared file is read again whenever its modification time changes, so a helper that
 * rotates short-lived credentials in it (as AWS IoT credential-provider scripts do) is followed
 * without a restart. No source at all is not an error here: a collector on loopback may run
 * open and take unsigned requests; the client decides (see aws-client.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-values.js';
import type { SigningCredentials } from './sigv4.js';

export type CredentialsOrigin = 'config' | 'environment' | 'shared-credentials-file';

export interface CredentialsSource {
  /** Which link of the chain provided them, for the startup log line. */
  readonly origin: CredentialsOrigin;
  /** The credentials to sign the next request with. */
  current(): SigningCredentials;
}

export function resolveCredentials(
  configured: { accessKeyId: string; secretAccessKey: string } | undefined,
  env: NodeJS.ProcessEnv,
): CredentialsSource | undefined {
  if (configured) {
    const credentials = { accessKeyId: configured.accessKeyId, secretAccessKey: configured.secretAccessKey };
    return { origin: 'config', current: () => credentials };
  }
  const fromEnvironment = environmentCredentials(env);
  if (fromEnvironment) return { origin: 'environment', current: () => fromEnvironment };
  return sharedFileCredentials(env);
}

function environmentCredentials(env: NodeJS.ProcessEnv): SigningCredentials | undefined {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    const missing = accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    throw new ConfigError(`environment ${missing}`, 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together');
  }
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
}

function sharedFileCredentials(env: NodeJS.ProcessEnv): CredentialsSource | undefined {
  const file = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(nonEmpty(env.HOME) ?? homedir(), '.aws', 'credentials');
  const explicitProfile = nonEmpty(env.AWS_PROFILE);
  const profile = explicitProfile ?? 'default';
  const where = `${file}: profile [${profile}]`;

  const load = (): SigningCredentials | undefined => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ConfigError(file, `cannot read the shared credentials file: ${(error as Error).message}`);
    }
    const section = parseIni(text).get(profile);
    if (section === undefined) return undefined;
    const accessKeyId = nonEmpty(section.get('aws_access_key_id'));
    const secretAccessKey = nonEmpty(section.get('aws_secret_access_key'));
    if (accessKeyId === undefined || secretAccessKey === undefined) {
      throw new ConfigError(where, 'needs both aws_access_key_id and aws_secret_access_key');
    }
    const sessionToken = nonEmpty(section.get('aws_session_token'));
    return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
  };

  const initial = load();
  if (initial === undefined) {
    // A profile asked for by name must exist; the default one is merely looked for.
    if (explicitProfile !== undefined) throw new ConfigError(where, 'no credentials for the profile named by AWS_PROFILE');
    return undefined;
  }
  let loaded: SigningCredentials = initial;
  let loadedMtimeMs = modificationTime(file);
  return {
    origin: 'shared-credentials-file',
    current() {
      const mtimeMs = modificationTime(file);
      if (mtimeMs !== undefined && mtimeMs !== loadedMtimeMs) {
        loadedMtimeMs = mtimeMs;
        // A half-written, emptied or broken file keeps the last good credentials: requests
        // signed with them may still pass, requests signed with none cannot.
        try {
          loaded = load() ?? loaded;
        } catch {
          return loaded;
        }
      }
      return loaded;
    },
  };
}

function modificationTime(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * The shared credentials file's INI dialect: `[profile]` sections, `key = value` lines, whole-line
 * comments starting with `#` or `;`. Names are case-sensitive, as the AWS CLI reads them.
 */
function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      section = new Map();
      sections.set(header[1]!, section);
      continue;
    }
    const equals = line.indexOf('=');
    if (section && equals > 0) section.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  return sections;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
