/**
 * The tail source: the Kinesis Agent's file flows. Split by concern, as Fluent Bit's tail input:
 *
 * - config.ts — the flow's options (TailSourceSpec) and their defaults.
 * - file-pattern.ts — `filePattern`: one directory, a glob in the last component.
 * - directory-watcher.ts — chokidar on the directory (not on each file): events as hints.
 * - file-identity.ts — device + inode + fingerprint of the first bytes; compressed files.
 * - tracked-file.ts — one file's state: read offset, records waiting, the file's AckTarget.
 * - record-splitter.ts — lines, header lines, multiline records, truncation; bytes, never text.
 * - ack-window.ts — sequence numbers to offsets: the contiguous watermark a checkpoint may reach.
 * - checkpoint-store.ts — every file flow's checkpoints in one file, written atomically.
 * - tail-source.ts — discovery, rotation, backpressure, status.
 *
 * Wiring: open one CheckpointStore for the agent (at `checkpointFile`), create a TailSource per
 * file flow with it (`tailSpecFromFlow`), `start()` them; on shutdown `pause()` them, let the
 * pipeline flush, `stop()` them, then `close()` the store (acknowledgements that arrive after
 * `stop()` still reach the checkpoint file).
 */
export { CheckpointStore, type CheckpointStoreOptions, type FileCheckpoint } from './checkpoint-store.js';
export { tailSpecFromFlow, type TailSourceSpec } from './config.js';
export { TailError, tailErrorCodes, type TailErrorCode } from './errors.js';
export { createTailSource, TailSource, type TailConsumer, type TailFileStatus, type TailSourceDependencies, type TailSourceStatus } from './tail-source.js';
export { type Schedule } from '../../../shared/clock.js';
