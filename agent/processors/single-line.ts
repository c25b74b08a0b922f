/**
 * SINGLELINE — `{ "optionName": "SINGLELINE" }`
 *
 * Turns a multi-line record (see `multiLineStartPattern`) into one line: every line loses its
 * leading and trailing whitespace and control characters, the lines are joined with nothing
 * between them, and one '\n' ends the result. That is the Kinesis Agent's
 * SingleLineDataConverter (split on '\n', String.trim() each part, join with ""). It works on
 * bytes, so invalid UTF-8 passes through unchanged: bytes up to 0x20 are ASCII in UTF-8.
 */
import type { ProcessorSpec } from './processor.js';

const LINE_FEED = 0x0a;
/** Java's String.trim() strips every character up to U+0020. */
const TRIMMED_UP_TO = 0x20;

export const singleLine: ProcessorSpec<Record<string, never>> = {
  optionName: 'SINGLELINE',
  keys: [],
  parse: () => ({}),
  create: () => joinLines,
};

function joinLines(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length + 1);
  let written = 0;
  let lineStart = 0;
  while (lineStart <= data.length) {
    const found = data.indexOf(LINE_FEED, lineStart);
    const lineEnd = found === -1 ? data.length : found;
    let start = lineStart;
    let end = lineEnd;
    while (start < end && (data[start] as number) <= TRIMMED_UP_TO) start++;
    while (end > start && (data[end - 1] as number) <= TRIMMED_UP_TO) end--;
    written += data.copy(out, written, start, end);
    lineStart = lineEnd + 1;
  }
  out[written++] = LINE_FEED;
  return out.subarray(0, written);
}
