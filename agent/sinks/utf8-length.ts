/**
 * The UTF-8 length of a string. Partition keys are short and almost always ASCII: counting their
 * code units in JavaScript beats Buffer.byteLength's native call (the agent sizes every record's
 * key in the batcher and the sink, and writes it into the CBOR body).
 */
export function utf8Length(text: string): number {
  // A string of ASCII code units is its own UTF-8; anything else is measured properly.
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text, 'utf8');
  return text.length;
}
