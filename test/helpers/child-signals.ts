import type { ChildProcess } from 'node:child_process';

/** `stop` (SIGTERM unless told otherwise) and `kill` (SIGKILL) for a child, each resolving with its exit. */
export function signalControls<Exit>(child: ChildProcess, exited: Promise<Exit>): { stop(signal?: NodeJS.Signals): Promise<Exit>; kill(): Promise<Exit> } {
  const send = (signal: NodeJS.Signals): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { stop: (signal = 'SIGTERM') => send(signal), kill: () => send('SIGKILL') };
}
