/**
 * Invoking a hosted function: a local module in a worker thread (its own heap, capped by
 * `memoryMB`; killed and replaced when it overruns its timeout or dies), or an HTTP URL that gets
 * the event as a JSON POST and answers the function's result as JSON. A failure is reported as
 * Lambda reports it (`errorType`, `errorMessage`), never thrown.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EventSourceMapping } from './config.js';
import type { InvokeMessage, ReplyMessage } from './handler-thread.js';

export type InvokeOutcome = { ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string };

export interface FunctionInvoker {
  invoke(event: unknown): Promise<InvokeOutcome>;
  close(): Promise<void>;
}

const handlerThreadFile = fileURLToPath(new URL('./handler-thread.js', import.meta.url));

export function createInvoker(mapping: EventSourceMapping, functionArn: string): FunctionInvoker {
  return mapping.target.kind === 'module' ? new ThreadInvoker(mapping, functionArn) : new HttpInvoker(mapping.target.url, mapping.timeoutSeconds);
}

class ThreadInvoker implements FunctionInvoker {
  private worker: Worker | undefined;
  private nextId = 0;
  private pending: { id: number; settle: (outcome: InvokeOutcome) => void } | undefined;

  constructor(
    private readonly mapping: EventSourceMapping,
    private readonly functionArn: string,
  ) {}

  private start(): Worker {
    const target = this.mapping.target as Extract<EventSourceMapping['target'], { kind: 'module' }>;
    const worker = new Worker(handlerThreadFile, {
      workerData: { modulePath: target.path, handlerName: target.handler, functionName: this.mapping.name, functionArn: this.functionArn, memoryMB: target.memoryMB },
      resourceLimits: { maxOldGenerationSizeMb: target.memoryMB },
      stdout: false,
      stderr: false,
    });
    worker.on('message', (reply: ReplyMessage) => {
      if (this.pending?.id !== reply.id) return;
      const { settle } = this.pending;
      this.pending = undefined;
      settle(reply.ok ? { ok: true, result: reply.result } : { ok: false, errorType: reply.errorType, errorMessage: reply.errorMessage });
    });
    const died = (reason: string) => {
      if (this.worker === worker) this.worker = undefined;
      const pending = this.pending;
      this.pending = undefined;
      pending?.settle({ ok: false, errorType: 'Runtime.ExitError', errorMessage: reason });
    };
    worker.on('error', (error) => died(`${error.name}: ${error.message}`));
    worker.on('exit', (code) => died(`the function's thread exited with code ${code}`));
    return worker;
  }

  invoke(event: unknown): Promise<InvokeOutcome> {
    const worker = (this.worker ??= this.start());
    const timeoutMs = this.mapping.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      const id = ++this.nextId;
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        // Lambda's own wording for a timed-out invocation.
        resolve({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.mapping.timeoutSeconds.toFixed(2)} seconds` });
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
      }, timeoutMs);
      this.pending = {
        id,
        settle: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      worker.postMessage({ id, event, requestId: randomUUID(), deadlineMs: Date.now() + timeoutMs } satisfies InvokeMessage);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}

class HttpInvoker implements FunctionInvoker {
  constructor(
    private readonly url: string,
    private readonly timeoutSeconds: number,
  ) {}

  async invoke(event: unknown): Promise<InvokeOutcome> {
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.timeoutSeconds * 1000),
      });
      const text = await response.text();
      if (!response.ok) return { ok: false, errorType: `HTTP${response.status}`, errorMessage: text.slice(0, 1000) };
      return { ok: true, result: text === '' ? null : (JSON.parse(text) as unknown) };
    } catch (error) {
      const failure = error as Error;
      return { ok: false, errorType: failure.name === 'TimeoutError' ? 'Sandbox.Timedout' : failure.name, errorMessage: failure.message };
    }
  }

  async close(): Promise<void> {}
}
