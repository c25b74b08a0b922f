/** Device passwords and mosquitto-style ACL patterns (collector/mqtt/devices.ts). */
import { describe, expect, it } from 'vitest';
import { AccessControl, filterWithin, hashPassword, verifyPassword } from '../../collector/mqtt/devices.js';
import { topicMatches } from '../../shared/mqtt-topic.js';

describe('device passwords', () => {
  it('verifies against the scrypt hash and nothing else', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horse ', hash)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain-text')).toBe(false);
    // Same password, fresh salt: a different hash.
    expect(await hashPassword('correct horse')).not.toBe(hash);
  });
});

describe('topic filters', () => {
  it('match topics as MQTT 3.1.1 §4.7 says', () => {
    expect(topicMatches('sensors/+/temp', 'sensors/a/temp')).toBe(true);
    expect(topicMatches('sensors/+/temp', 'sensors/a/b/temp')).toBe(false);
    expect(topicMatches('sensors/#', 'sensors')).toBe(true);
    expect(topicMatches('sensors/#', 'sensors/a/b')).toBe(true);
    expect(topicMatches('#', '$SYS/broker')).toBe(false);
    expect(topicMatches('+/broker', '$SYS/broker')).toBe(false);
  });

  it('lie within a pattern only when every topic they match does', () => {
    expect(filterWithin('commands/dev/#', 'commands/dev/+/set')).toBe(true);
    expect(filterWithin('commands/dev/#', 'commands/#')).toBe(false);
    expect(filterWithin('commands/+/set', 'commands/dev/set')).toBe(true);
    expect(filterWithin('commands/dev/set', 'commands/+/set')).toBe(false);
    expect(filterWithin('commands/+', 'commands/#')).toBe(false);
  });
});

describe('ACL patterns', () => {
  const devices = [
    { username: 'dev-1', passwordHash: 'x', acl: [{ access: 'write' as const, pattern: 'sensors/%u/%c/#' }] },
    { username: 'bad/+', passwordHash: 'x', acl: [{ access: 'readwrite' as const, pattern: 'sensors/%u/#' }] },
    { username: 'plain', passwordHash: 'x' },
  ];
  const control = new AccessControl(devices, [{ access: 'read', pattern: 'broadcast/#' }]);

  it('substitute %u and %c', () => {
    expect(control.allows({ username: 'dev-1', clientId: 'c1', topic: 'sensors/dev-1/c1/t', kind: 'publish' })).toBe(true);
    expect(control.allows({ username: 'dev-1', clientId: 'c1', topic: 'sensors/dev-1/c2/t', kind: 'publish' })).toBe(false);
    expect(control.allows({ username: 'dev-1', clientId: 'c1', topic: 'sensors/dev-1/c1/t', kind: 'subscribe' })).toBe(false);
  });

  it('never let a name with wildcards or slashes widen a pattern', () => {
    expect(control.allows({ username: 'bad/+', clientId: 'c', topic: 'sensors/bad/x/y', kind: 'publish' })).toBe(false);
    expect(control.allows({ username: 'dev-1', clientId: '#', topic: 'sensors/dev-1/#', kind: 'subscribe' })).toBe(false);
  });

  it('fall back to the global patterns for devices without their own', () => {
    expect(control.allows({ username: 'plain', clientId: 'c', topic: 'broadcast/news', kind: 'subscribe' })).toBe(true);
    expect(control.allows({ username: 'plain', clientId: 'c', topic: 'broadcast/news', kind: 'publish' })).toBe(false);
  });
});
