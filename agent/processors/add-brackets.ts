/**
 * ADDBRACKETS — `{ "optionName": "ADDBRACKETS" }`
 *
 * Wraps the record in curly brackets, its trailing '\n' included: "hello\n" becomes "{hello\n}"
 * (the Kinesis Agent's BracketsDataConverter, an example converter). Riffle copies bytes, so
 * binary records are wrapped unchanged where the Kinesis Agent would re-encode them.
 */
import type { ProcessorSpec } from './processor.js';

const OPEN = Buffer.from('{');
const CLOSE = Buffer.from('}');

export const addBrackets: ProcessorSpec<Record<string, never>> = {
  optionName: 'ADDBRACKETS',
  keys: [],
  parse: () => ({}),
  create: () => (data) => Buffer.concat([OPEN, data, CLOSE]),
};
