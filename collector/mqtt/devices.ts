/**
 * Device credentials and topic ACLs for the embedded MQTT broker.
 *
 * Passwords are stored only as scrypt hashes: `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`
 * (the parameters travel with the hash so they can be raised later without breaking old devices).
 * Verification is constant-time over the derived key.
 *
 * ACL entries follow mosquitto's acl_file `pattern` lines: a topic filter with `+` / `#` in which
 * `%u` is replaced by the username and `%c` by the client id (mosquitto.conf(5), "acl_file"). A
 * substituted value containing `+`, `#` or `/` matches nothing, so a device cannot widen its own
 * pattern through its name (mosquitto refuses such substitutions in the same way).
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { topicMatches } from '../../shared/mqtt-topic.js';

export type AclAccess = 'read' | 'write' | 'readwrite';

export interface AclEntry {
  /** `write` = publish, `read` = subscribe and receive, as mosquitto names them. */
  access: AclAccess;
  pattern: string;
}

export interface DeviceConfig {
  username: string;
  passwordHash: string;
  /** Absent: the global patterns apply; if those are absent too, the device may use every topic. */
  acl?: AclEntry[];
}

// scrypt cost: N = 2^14, r = 8, p = 1 is the interactive-login setting from the scrypt paper
// (Percival 2009, §7) and what OWASP's Password Storage Cheat Sheet lists as its minimum; ~16 MiB
// and ~50 ms per check on a Pi-class CPU, paid once per connection.
const SCRYPT_N = 16384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, KEY_BYTES, { ...options, maxmem: 128 * options.N! * options.r! * 2 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P });
  return ['scrypt', SCRYPT_N, SCRYPT_R, SCRYPT_P, salt.toString('base64'), key.toString('base64')].join('$');
}

const hashPattern = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export function isPasswordHash(value: string): boolean {
  return hashPattern.test(value);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = hashPattern.exec(stored);
  if (!match) return false;
  const expected = Buffer.from(match[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(match[4]!, 'base64'), { N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A device's password as the CLI prints it: 24 random bytes, URL-safe base64 (192 bits). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Whether `filter` (what a client subscribes to) lies entirely within `pattern`: every topic the
 * filter can match is matched by the pattern. A wildcard in the filter is covered only by the
 * same or a wider wildcard in the pattern.
 */
export function filterWithin(pattern: string, filter: string): boolean {
  const patternLevels = pattern.split('/');
  const filterLevels = filter.split('/');
  for (let i = 0; i < patternLevels.length; i++) {
    const level = patternLevels[i]!;
    if (level === '#') return true;
    const asked = filterLevels[i];
    if (asked === undefined) return false;
    if (asked === '#') return false;
    if (level === '+') continue;
    if (asked === '+' || asked !== level) return false;
  }
  return patternLevels.length === filterLevels.length;
}

function substitute(pattern: string, username: string | undefined, clientId: string): string | undefined {
  const unsafe = (value: string) => /[+#/]/.test(value);
  if (pattern.includes('%u') && (username === undefined || unsafe(username))) return undefined;
  if (pattern.includes('%c') && unsafe(clientId)) return undefined;
  return pattern.replaceAll('%u', username ?? '').replaceAll('%c', clientId);
}

export interface AccessRequest {
  username: string | undefined;
  clientId: string;
  /** Publish: a topic name. Subscribe: a topic filter. */
  topic: string;
  kind: 'publish' | 'subscribe';
}

export interface Credentials {
  username: string | undefined;
  password: Buffer | undefined;
  /**
   * The common name of a client certificate the TLS listener verified against mqtt.clientCaFile.
   * It is the device's username (mosquitto's use_identity_as_username); no password is needed.
   */
  certificateName?: string;
}

/** Decides who may connect, and their publishes and subscribes against their ACL (or the global patterns). */
export class AccessControl {
  private readonly devices: Map<string, DeviceConfig>;

  constructor(
    devices: readonly DeviceConfig[],
    private readonly globalPatterns: readonly AclEntry[],
    /** Whether client certificates identify devices (a client CA is configured). */
    private readonly certificates = false,
  ) {
    this.devices = new Map(devices.map((device) => [device.username, device]));
  }

  get authRequired(): boolean {
    return this.devices.size > 0 || this.certificates;
  }

  /** The username the client is known by from now on, or undefined if it is refused. */
  async authenticate(credentials: Credentials): Promise<{ username: string | undefined } | undefined> {
    const { username, password, certificateName } = credentials;
    if (certificateName !== undefined) {
      // A CONNECT naming someone else than the certificate does is refused, not silently renamed.
      return username === undefined || username === certificateName ? { username: certificateName } : undefined;
    }
    if (!this.authRequired) return { username };
    const device = username === undefined ? undefined : this.devices.get(username);
    if (!device || password === undefined) return undefined;
    return (await verifyPassword(password.toString('utf8'), device.passwordHash)) ? { username } : undefined;
  }

  allows(request: AccessRequest): boolean {
    const device = request.username === undefined ? undefined : this.devices.get(request.username);
    const entries = device?.acl ?? this.globalPatterns;
    if (device?.acl === undefined && this.globalPatterns.length === 0) return true;
    const needed = request.kind === 'publish' ? 'write' : 'read';
    return entries.some((entry) => {
      if (entry.access !== needed && entry.access !== 'readwrite') return false;
      const pattern = substitute(entry.pattern, request.username, request.clientId);
      if (pattern === undefined) return false;
      return request.kind === 'publish' ? topicMatches(pattern, request.topic) : filterWithin(pattern, request.topic);
    });
  }
}
