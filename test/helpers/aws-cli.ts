/**
 * The Debian AWS CLI v2 (/usr/bin/aws: botocore, HTTP/1.1, its own serializers) run against a
 * collector with throwaway credentials and no user configuration.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The packaged CLI, not whichever `aws` is first on PATH (a pyenv shim or v1 would test something else). */
export const awsCli = '/usr/bin/aws';
export const awsCliPresent = existsSync(awsCli);
const CLI_TIMEOUT_MS = 20_000;

export interface AwsCliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface AwsCliTarget {
  endpoint: string;
  /** The CLI's HOME (it writes a cache there): a test's temp dir. */
  home: string;
  /** An AWS config file; none by default. */
  configFile?: string;
}

/** Runs `aws <service> <args>` with JSON output; resolves with its exit status (rejects only if it cannot run or times out). */
export function runAwsCli(service: string, args: string[], target: AwsCliTarget): Promise<AwsCliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      awsCli,
      [service, ...args, '--endpoint-url', target.endpoint, '--output', 'json'],
      {
        timeout: CLI_TIMEOUT_MS,
        env: {
          PATH: process.env.PATH,
          HOME: target.home,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_PAGER: '',
          AWS_CONFIG_FILE: target.configFile ?? '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error); // spawn failure or timeout, not an exit status
        else resolve({ exitCode: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs a command that must succeed; returns its JSON output (undefined for commands that print nothing). */
export async function awsCliJson<T>(service: string, args: string[], target: AwsCliTarget): Promise<T> {
  const result = await runAwsCli(service, args, target);
  if (result.exitCode !== 0) throw new Error(`aws ${service} ${args.join(' ')} exited with ${result.exitCode}: ${result.stderr}`);
  return (result.stdout.trim() === '' ? undefined : JSON.parse(result.stdout)) as T;
}
