/**
 * The agent ships over TLS: the collector serves TLS on its API port with a throwaway
 * certificate, and the agent trusts it through NODE_EXTRA_CA_CERTS (as a device would trust a
 * private CA). Without that trust it sends nothing, keeps the lines, and reports why.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-process.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { createActiveStream } from '../helpers/kinesis-client.js';
import { recordTexts, StreamReader } from '../helpers/stream-reader.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeThrowawayCertificate } from '../helpers/throwaway-certificate.js';

const streamName = 'agent-tls';
let dir: { path: string; remove: () => Promise<void> };
let collector: CollectorProcess;
let client: KinesisClient;
let certPath: string;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  dir = await makeTempDir('riffle-agent-tls-');
  const certificate = makeThrowawayCertificate(dir.path);
  certPath = certificate.certPath;
  collector = await startCollector(join(dir.path, 'collector'), ['--tls-cert', certificate.certPath, '--tls-key', certificate.keyPath]);
  // With a certificate the API port speaks only TLS: the test's client trusts the certificate too.
  client = new KinesisClient({
    endpoint: `https://127.0.0.1:${collector.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' },
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: readFileSync(certificate.certPath) }) }),
  });
  await createActiveStream(client, streamName);
});

afterAll(async () => {
  for (const agent of agents) await agent.kill();
  client?.destroy();
  await collector?.stop();
  await dir?.remove();
});

async function agentOverTls(name: string, lines: string[], env: NodeJS.ProcessEnv): Promise<AgentProcess> {
  const base = join(dir.path, name);
  await mkdir(base);
  await writeFile(join(base, 'app.log'), lines.join(''));
  const configFile = await writeAgentConfig(join(base, 'agent.json'), {
    'kinesis.endpoint': `https://127.0.0.1:${collector.port}`,
    flows: [{ filePattern: join(base, '*.log'), kinesisStream: streamName, initialPosition: 'START_OF_FILE', maxBufferAgeMillis: 1000, retryMaxBackoffMillis: 1000 }],
  });
  const agent = await startAgent({ configFile, stateDir: join(base, 'state'), env });
  agents.push(agent);
  return agent;
}

it('refuses a collector whose certificate it does not trust, and keeps the lines', async () => {
  const agent = await agentOverTls('untrusted', ['never sent\n'], {});
  const status = await agent.waitForStatus('a send refused', (s) => s.flows[0]!.lastError !== undefined);
  expect(status.flows[0]!.lastError!.code).toBe('NETWORK_ERROR');
  expect(status.flows[0]!.recordsSent).toBe(0);
  await agent.kill();
});

it('ships over TLS to a collector it trusts', async () => {
  const lines = Array.from({ length: 20 }, (_, i) => `over tls ${i}\n`);
  await agentOverTls('trusted', lines, { NODE_EXTRA_CA_CERTS: certPath });
  const reader = new StreamReader(client, streamName);
  await reader.waitFor('every line', (records) => records.length >= lines.length);
  expect(recordTexts(reader.records)).toEqual(lines);
});
