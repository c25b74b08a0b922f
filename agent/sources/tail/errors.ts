/**
 * The tail source's error codes. Each problem reaches the flow's `onError` as a TailError whose
 * `code` is one of these; tests and `riffle-agent status` use the code, never the message.
 */

export const tailErrorCodes = {
  /** `filePattern` is not an absolute path with a glob only in its last component. */
  invalidFilePattern: 'TAIL_INVALID_FILE_PATTERN',
  /** An option is out of range (e.g. a terminator as long as the record limit). */
  invalidOption: 'TAIL_INVALID_OPTION',
  /** A matching file cannot be opened or read for lack of permission (EACCES, EPERM); retried on its next change and every scan. */
  fileUnreadable: 'TAIL_FILE_UNREADABLE',
  /** Any other read or stat failure of a file; the file is retried. */
  readFailed: 'TAIL_READ_FAILED',
  /** The watched directory cannot be listed or watched; scans go on and retry. */
  directoryUnreadable: 'TAIL_DIRECTORY_UNREADABLE',
  /** The checkpoint file exists but is not a Riffle checkpoint file (start refuses to overwrite it). */
  checkpointUnreadable: 'TAIL_CHECKPOINT_UNREADABLE',
  /** Writing the checkpoint file failed; the next write retries with the newest offsets. */
  checkpointWriteFailed: 'TAIL_CHECKPOINT_WRITE_FAILED',
} as const;

export type TailErrorCode = (typeof tailErrorCodes)[keyof typeof tailErrorCodes];

export class TailError extends Error {
  constructor(
    readonly code: TailErrorCode,
    message: string,
    /** The file or directory concerned, when there is one. */
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TailError';
  }
}

/** Node's system error code (`EACCES`, `ENOENT`, …), if `error` carries one. */
export function systemErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isPermissionError(error: unknown): boolean {
  const code = systemErrorCode(error);
  return code === 'EACCES' || code === 'EPERM';
}
