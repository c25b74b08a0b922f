/**
 * A private, throwaway PostgreSQL server for a test: initdb into a temp dir and `postgres` on a
 * random port, run as the `postgres` system user (PostgreSQL refuses to run as root; CI runs as
 * root). Needs Debian's postgresql package (.ci/run installs it). `stop()` ends only the server
 * this helper started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startOnFreePort } from './free-port.js';
import { pollUntil } from './poll.js';
import { makeTempDir } from './temp-dir.js';

export interface PostgresServer {
  port: number;
  user: string;
  database: string;
  query(sql: string): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

/** Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const dir = version === undefined ? undefined : join(root, version, 'bin');
  return dir && existsSync(join(dir, 'initdb')) ? dir : undefined;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries are missing (Debian package postgresql)');
  const dir = await makeTempDir('riffle-postgres-');
  const user = 'riffle';
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) => (asRoot ? { command: 'runuser', args: ['-u', 'postgres', '--', command, ...args] } : { command, args });
  if (asRoot) chownSync(dir.path, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = join(dir.path, 'data');
  const initdb = run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', user, '--no-sync']);
  execFileSync(initdb.command, initdb.args, { stdio: 'ignore' });
  const startOnPort = async (port: number) => {
    const server = run(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir.path, '-c', 'fsync=off']);
    const child: ChildProcess = spawn(server.command, server.args, { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const connect = async () => {
      const client = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres' });
      await client.connect();
      return client;
    };
    try {
      // A server that lost the port to another process exits ("could not bind"): try another.
      const client = await pollUntil('PostgreSQL to accept connections', async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited with ${child.exitCode ?? child.signalCode} on port ${port}`);
        return connect().catch(() => undefined);
      }, { timeoutMs: 30_000 });
      return { port, child, exited, client };
    } catch (error) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      throw error;
    }
  };
  const { port, child, exited, client } = await startOnFreePort('PostgreSQL', startOnPort).catch(async (error: unknown) => {
    await dir.remove();
    throw error;
  });
  return {
    port,
    user,
    database: 'postgres',
    query: (sql) => client.query(sql),
    async stop() {
      await client.end().catch(() => undefined);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await dir.remove();
    },
  };
}
