/**
 * kinesalite as the benchmark runs it: its own process, LevelDB on disk in the directory given
 * as argv[2], streams ACTIVE at once. Prints `{"event":"listening","api":URL}` as the collector does.
 *
 * Not its CLI: `cli.js --port 0` falls back to 4567 (it listens on `argv.port || 4567`), and a
 * fixed port could collide; its module API takes a port like any `http.Server`.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';

type CreateKinesalite = (options: { path: string; createStreamMs: number; deleteStreamMs: number; updateStreamMs: number }) => Server;

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: kinesalite-server.js DATA_DIR');

const createKinesalite = createRequire(import.meta.url)('kinesalite') as CreateKinesalite;
const server = createKinesalite({ path: dataDir, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('kinesalite has no TCP address');
  process.stdout.write(`${JSON.stringify({ event: 'listening', api: `http://127.0.0.1:${address.port}` })}\n`);
});
