/**
 * Checks for values read from config files, the environment or flags. Every failure is a
 * ConfigError that names where the value came from (file and key, variable, or flag).
 */

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

export function checkObject(value: unknown, source: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(source, 'must be an object');
  return value as Record<string, unknown>;
}

export function checkString(value: unknown, source: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(source, 'must be a non-empty string');
  return value;
}

export function checkStringList(value: unknown, source: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ConfigError(source, 'must be an array of strings');
  return value as string[];
}

export function checkInteger(value: unknown, source: string, min: number, max: number): number {
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(source, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

export function checkBoolean(value: unknown, source: string): boolean {
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw new ConfigError(source, `must be true or false, got ${JSON.stringify(value)}`);
}

export function checkRegion(value: string, source: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value)) throw new ConfigError(source, `must be a region name such as us-east-1, got ${JSON.stringify(value)}`);
  return value;
}
