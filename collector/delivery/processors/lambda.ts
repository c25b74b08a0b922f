/**
 * Lambda: the Firehose data-transformation contract. Each invocation gets
 * `{invocationId, deliveryStreamArn, region, records: [{recordId, approximateArrivalTimestamp, data}]}`
 * (data base64) and must answer `{records: [{recordId, result: Ok|Dropped|ProcessingFailed, data,
 * metadata?: {partitionKeys}}]}` with every recordId exactly once (developer guide, "Transform
 * source data in Amazon Data Firehose").
 *
 * The function (LambdaArn) is either
 * - an `http://` / `https://` URL: the event is POSTed as JSON, the response body is the result;
 * - `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`: the module
 *   `<data-dir>/functions/<name>.mjs` (or `.js`), run in a worker thread;
 * - an absolute path to a module, run in a worker thread.
 * A module exports `handler(event, context)` returning (a promise of) the result.
 *
 * An invocation that throws, times out, or answers outside the contract is retried
 * NumberOfRetries times (default 3); then its records fail to processing-failed with the Lambda
 * error code. Ok records go on with the returned data (and partition keys), Dropped ones are
 * gone, ProcessingFailed ones go to processing-failed.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AwsError } from '../../../shared/errors.js';
import { processingFailure, type ProcessingContext, type ProcessingRecord, type ProcessorSpec } from './index.js';

// Firehose Lambda processor parameters: NumberOfRetries 0–300 (default 3), BufferSizeInMBs 0.2–3 (default 1).
const DEFAULT_RETRIES = 3;
const MAX_RETRIES = 300;
const DEFAULT_BUFFER_MB = 1;
// Riffle: how long one invocation may run (AWS recommends a transform timeout of at most 1 minute; Lambda's own cap is 15).
export const LAMBDA_TIMEOUT_MS = 60_000;

type Result = 'Ok' | 'Dropped' | 'ProcessingFailed';

interface TransformedRecord {
  recordId: string;
  result: Result;
  data?: string;
  metadata?: { partitionKeys?: Record<string, unknown> };
}

class InvocationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const lambdaProcessor: ProcessorSpec = {
  type: 'Lambda',
  order: 30,
  check(parameters) {
    const target = parameters.get('LambdaArn');
    if (!target) throw new AwsError('InvalidArgumentException', 'Lambda processor needs a LambdaArn.');
    if (!/^https?:\/\//.test(target) && !target.startsWith('/') && functionNameOf(target) === undefined) {
      throw new AwsError('InvalidArgumentException', `LambdaArn ${target} is neither a Lambda function ARN, an http(s) URL nor an absolute module path.`);
    }
    const retries = Number(parameters.get('NumberOfRetries') ?? DEFAULT_RETRIES);
    if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
      throw new AwsError('InvalidArgumentException', `NumberOfRetries must be an integer between 0 and ${MAX_RETRIES}.`);
    }
    const bufferMb = Number(parameters.get('BufferSizeInMBs') ?? DEFAULT_BUFFER_MB);
    if (!(bufferMb >= 0.2 && bufferMb <= 3)) throw new AwsError('InvalidArgumentException', 'BufferSizeInMBs must be between 0.2 and 3.');
  },
  create(parameters) {
    const target = parameters.get('LambdaArn')!;
    const retries = Number(parameters.get('NumberOfRetries') ?? DEFAULT_RETRIES);
    const chunkBytes = Number(parameters.get('BufferSizeInMBs') ?? DEFAULT_BUFFER_MB) * 1024 * 1024;
    return {
      async process(records, context) {
        const out: ProcessingRecord[] = [];
        const failed = [];
        for (const chunk of chunksOf(records, chunkBytes)) {
          const result = await invokeWithRetries(target, chunk, context, retries);
          if ('error' in result) {
            for (const record of chunk) {
              failed.push(processingFailure(record, result.error.code, result.error.message, context, { attemptsMade: retries + 1, lambdaArn: target }));
            }
            continue;
          }
          chunk.forEach((record, index) => {
            const transformed = result.records.get(recordIdOf(index))!;
            if (transformed.result === 'Dropped') return;
            if (transformed.result === 'ProcessingFailed') {
              failed.push(processingFailure(record, 'Lambda.ProcessingFailed', 'The Lambda function marked the record ProcessingFailed.', context, { lambdaArn: target }));
              return;
            }
            const partitionKeys = transformed.metadata?.partitionKeys;
            out.push({
              ...record,
              data: Buffer.from(transformed.data ?? '', 'base64'),
              ...(partitionKeys ? { partitionKeysFromLambda: scalarKeys(partitionKeys) } : {}),
            });
          });
        }
        return { records: out, failed };
      },
    };
  },
};

/** Partition keys as strings; keys without a value are left out (and so reported missing if the prefix needs them). */
function scalarKeys(keys: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== null && value !== undefined).map(([key, value]) => [key, String(value)]));
}

function functionNameOf(arn: string): string | undefined {
  return /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:([a-zA-Z0-9_-]+)(?::[\w$-]+)?$/.exec(arn)?.[1];
}

function recordIdOf(index: number): string {
  return `record-${String(index).padStart(6, '0')}`;
}

function* chunksOf(records: ProcessingRecord[], maxBytes: number): Generator<ProcessingRecord[]> {
  let chunk: ProcessingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    // Base64 grows data by 4/3; keep each invocation under the buffer size as sent.
    const size = Math.ceil(record.data.length / 3) * 4;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

async function invokeWithRetries(
  target: string,
  chunk: ProcessingRecord[],
  context: ProcessingContext,
  retries: number,
): Promise<{ records: Map<string, TransformedRecord> } | { error: InvocationError }> {
  const event = {
    invocationId: randomUUID(),
    deliveryStreamArn: context.deliveryStreamArn,
    region: context.region,
    records: chunk.map((record, index) => ({ recordId: recordIdOf(index), approximateArrivalTimestamp: record.arrivalMs, data: record.data.toString('base64') })),
  };
  let lastError = new InvocationError('Lambda.InvokeError', 'not invoked');
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      return { records: checkResponse(await invoke(target, event, context), chunk.length) };
    } catch (error) {
      lastError = error instanceof InvocationError ? error : new InvocationError('Lambda.FunctionError', String((error as Error)?.message ?? error));
    }
  }
  return { error: lastError };
}

function checkResponse(response: unknown, count: number): Map<string, TransformedRecord> {
  const records = (response as { records?: unknown })?.records;
  if (!Array.isArray(records)) throw new InvocationError('Lambda.InvalidResponse', 'The Lambda function response has no records array.');
  const byId = new Map<string, TransformedRecord>();
  for (const record of records as TransformedRecord[]) {
    if (typeof record?.recordId !== 'string' || !['Ok', 'Dropped', 'ProcessingFailed'].includes(record.result)) {
      throw new InvocationError('Lambda.InvalidResponse', 'A record in the Lambda function response has no valid recordId or result.');
    }
    if (byId.has(record.recordId)) throw new InvocationError('Lambda.DuplicatedRecordId', `The Lambda function returned recordId ${record.recordId} more than once.`);
    if (record.result === 'Ok' && typeof record.data !== 'string') throw new InvocationError('Lambda.InvalidResponse', `Record ${record.recordId} is Ok but has no data.`);
    byId.set(record.recordId, record);
  }
  for (let index = 0; index < count; index++) {
    if (!byId.has(recordIdOf(index))) throw new InvocationError('Lambda.MissingRecordId', `The Lambda function did not return recordId ${recordIdOf(index)}.`);
  }
  if (byId.size !== count) throw new InvocationError('Lambda.InvalidResponse', 'The Lambda function returned recordIds it was not given.');
  return byId;
}

async function invoke(target: string, event: unknown, context: ProcessingContext): Promise<unknown> {
  if (/^https?:\/\//.test(target)) return invokeUrl(target, event);
  const name = functionNameOf(target);
  const modulePath = name === undefined ? target : [join(context.functionsDir, `${name}.mjs`), join(context.functionsDir, `${name}.js`)].find((path) => existsSync(path));
  if (modulePath === undefined) throw new InvocationError('Lambda.FunctionNotFound', `No module for ${target} in ${context.functionsDir}.`);
  return invokeModule(modulePath, name ?? modulePath, event);
}

async function invokeUrl(url: string, event: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event), signal: AbortSignal.timeout(LAMBDA_TIMEOUT_MS) });
  } catch (error) {
    throw new InvocationError('Lambda.InvokeError', `POST ${url} failed: ${(error as Error).message}`);
  }
  if (!response.ok) throw new InvocationError('Lambda.FunctionError', `POST ${url} answered HTTP ${response.status}.`);
  try {
    return await response.json();
  } catch {
    throw new InvocationError('Lambda.InvalidResponse', `POST ${url} answered a body that is not JSON.`);
  }
}

function invokeModule(modulePath: string, functionName: string, event: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./lambda-worker.js', import.meta.url), { workerData: { modulePath, event, functionName } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new InvocationError('Lambda.FunctionTimeout', `The function ${functionName} did not answer within ${LAMBDA_TIMEOUT_MS} ms.`));
    }, LAMBDA_TIMEOUT_MS);
    worker.once('message', (message: { ok: boolean; result?: unknown; message?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (message.ok) resolve(message.result);
      else reject(new InvocationError('Lambda.FunctionError', message.message ?? 'the function failed'));
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(new InvocationError('Lambda.FunctionError', error.message));
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new InvocationError('Lambda.FunctionError', `The function ${functionName} exited (code ${code}) without an answer.`));
    });
  });
}
