/**
 * Runs one Firehose transform invocation of a local JavaScript module inside a worker thread:
 * imports the module, calls its `handler(event, context)` and posts back the result (or the
 * error). The parent terminates the worker at the timeout, so a function that hangs or loops
 * cannot stall delivery.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

interface Invocation {
  modulePath: string;
  event: unknown;
  functionName: string;
}

const { modulePath, event, functionName } = workerData as Invocation;

try {
  const module = (await import(pathToFileURL(modulePath).href)) as { handler?: (event: unknown, context: unknown) => unknown; default?: { handler?: unknown } };
  const handler = module.handler ?? (module.default?.handler as typeof module.handler);
  if (typeof handler !== 'function') throw new Error(`${modulePath} exports no handler function`);
  const result = await handler(event, { functionName, awsRequestId: (event as { invocationId: string }).invocationId });
  parentPort!.postMessage({ ok: true, result });
} catch (error) {
  parentPort!.postMessage({ ok: false, message: String((error as Error)?.message ?? error) });
}
