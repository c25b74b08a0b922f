/**
 * File system events for one directory, through chokidar, watching the directory only.
 *
 * chokidar would add an inotify watch per file it reports; a log directory holds many files
 * and a device has a small inotify budget, and the directory's own watch already reports every
 * create, write, rename, chmod and delete of its entries by name. So every entry is `ignored`
 * and the events come from chokidar's `raw` channel. They are hints only: the source stats and
 * reads to learn what happened, and rescans on a timer in case the kernel dropped events.
 */
import { watch, type FSWatcher } from 'chokidar';

export interface DirectoryWatcher {
  /** Resolves once events flow: anything created after it is reported. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * What happened to an entry, as fs.watch says it: `rename` — created, deleted or renamed;
 * `change` — written to, or its attributes (mode, owner) changed.
 */
export type DirectoryEventKind = 'rename' | 'change';

/**
 * Calls `onEvent(kind, name)` for each event on an entry of `directory` (`name` undefined
 * when the kernel did not say which).
 */
export function watchDirectory(
  directory: string,
  onEvent: (kind: DirectoryEventKind, name: string | undefined) => void,
  onError: (error: Error) => void,
): DirectoryWatcher {
  const watcher: FSWatcher = watch(directory, {
    depth: 0,
    ignoreInitial: true,
    ignored: (path) => path !== directory,
  });
  watcher.on('raw', (event, name, details) => {
    if ((details as { watchedPath?: string }).watchedPath !== directory) return;
    onEvent(event === 'change' ? 'change' : 'rename', typeof name === 'string' && name !== '' ? name : undefined);
  });
  watcher.on('error', (error) => onError(error instanceof Error ? error : new Error(String(error))));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { ready, close: () => watcher.close() };
}
