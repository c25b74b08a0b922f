/**
 * Worker-thread entry that runs a local function module, one invocation at a time (as one Lambda
 * execution environment does). The handler is called like Lambda's Node.js runtime calls it:
 * `handler(event, context)` returning a promise, or `handler(event, context, callback)`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

interface ThreadData {
  modulePath: string;
  handlerName: string;
  functionName: string;
  functionArn: string;
  memoryMB: number;
}

export interface InvokeMessage {
  id: number;
  event: unknown;
  requestId: string;
  deadlineMs: number;
}

export type ReplyMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; errorType: string; errorMessage: string };

type Handler = (event: unknown, context: object, callback?: (error: unknown, result?: unknown) => void) => unknown;

const data = workerData as ThreadData;
const port = parentPort!;

async function loadHandler(): Promise<Handler> {
  const loaded = (await import(pathToFileURL(data.modulePath).href)) as Record<string, unknown>;
  const handler = loaded[data.handlerName] ?? (loaded.default as Record<string, unknown> | undefined)?.[data.handlerName];
  if (typeof handler !== 'function') throw new Error(`${data.modulePath} exports no function '${data.handlerName}'`);
  return handler as Handler;
}

function call(handler: Handler, event: unknown, context: object): Promise<unknown> {
  if (handler.length < 3) return Promise.resolve(handler(event, context));
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
    if (returned instanceof Promise) returned.then(resolve, reject);
  });
}

const handler = loadHandler();
port.on('message', (message: InvokeMessage) => {
  const context = {
    functionName: data.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: data.functionArn,
    memoryLimitInMB: String(data.memoryMB),
    awsRequestId: message.requestId,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
  };
  handler
    .then((h) => call(h, message.event, context))
    .then(
      (result) => port.postMessage({ id: message.id, ok: true, result: result ?? null } satisfies ReplyMessage),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        port.postMessage({ id: message.id, ok: false, errorType: failure.name || 'Error', errorMessage: failure.message } satisfies ReplyMessage);
      },
    );
});
