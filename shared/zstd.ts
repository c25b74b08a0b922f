/**
 * Zstandard (RFC 8878) for request bodies and spool files, on zstd-codec 0.1.5: zstd compiled to
 * WebAssembly, so it runs on any device Node runs on without a native build.
 *
 * The constraint that shapes this module: the wasm instance has a fixed 16 MiB memory, about
 * 11 MiB of heap after its static data, and it cannot grow. An allocation past that aborts the
 * instance (it prints "OOM" and throws). So:
 *  - compression cuts the input into independent frames (a concatenation of frames is one valid
 *    zstd stream, RFC 8878 §3.1), small enough that source, destination and the compression
 *    context fit the heap at every level;
 *  - decompression first walks the frame and block headers in JavaScript, refusing frames whose
 *    window would not fit before the decoder tries to allocate it. A single frame that declares
 *    a content size within `maxBytes` (and small enough for the heap) is decoded in one call into
 *    a buffer of that size; anything else feeds the streaming decoder one block at a time,
 *    counting the output so `maxBytes` stops a zip bomb within one block (128 KiB) of the limit;
 *  - each call runs synchronously once the module is ready, so two calls never hold decoder
 *    state in the heap at the same time;
 *  - an instance that aborts anyway is dropped and a fresh one is made on the next call.
 *
 * We use the raw embind classes from `zstd-codec/lib/module.js` rather than the package's
 * `Streaming` helper because the helper hides the decoder's output until the end, so it can
 * neither enforce a limit nor avoid copying into a growing buffer. The package is pinned.
 */
import { createRequire } from 'node:module';

export type ZstdErrorCode =
  /** Not zstd, truncated, or failing its checksum. */
  | 'ZSTD_CORRUPT'
  /** Valid zstd that this decoder cannot hold: a window above `maxWindowBytes`, a dictionary. */
  | 'ZSTD_UNSUPPORTED'
  /** The decompressed data would exceed the caller's `maxBytes`. */
  | 'ZSTD_TOO_LARGE'
  /** The wasm instance ran out of memory; it has been discarded. */
  | 'ZSTD_OUT_OF_MEMORY';

export class ZstdError extends Error {
  constructor(
    readonly code: ZstdErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ZstdError';
  }
}

/**
 * Frame input sizes that fit the heap, measured with zstd-codec 0.1.5: a 1 MiB frame compresses
 * at levels 1–9 and runs out of memory from level 10 up, where the match finders' tables grow;
 * 512 KiB frames compress at every level up to 22.
 */
const maxFrameInputBytes = 1024 * 1024;
const maxFrameInputBytesAboveLevel9 = 512 * 1024;

/**
 * Largest decoder window accepted: 8 MiB, the window of level 19 (windowLog 23) that the CLI
 * writes when it compresses a stream of unknown size; decoding it fits the heap. `--ultra`
 * levels and `--long` use 128 MiB windows and are refused rather than aborting the instance.
 */
export const maxWindowBytes = 8 * 1024 * 1024;

/**
 * Largest frame content decompressed in one call (see decompressFrame): source, destination and
 * the decoder context must fit the ~11 MiB heap together; the frames we write hold at most 1 MiB.
 */
const maxOneShotBytes = 2 * 1024 * 1024;

export async function zstdCompress(data: Buffer, level = 3): Promise<Buffer> {
  if (!Number.isInteger(level) || level < 1 || level > 22) throw new RangeError(`zstd level must be an integer 1..22, got ${level}`);
  const frameInputBytes = level <= 9 ? maxFrameInputBytes : maxFrameInputBytesAboveLevel9;
  return withWasm((loaded) => {
    const frames: Uint8Array[] = [];
    let offset = 0;
    do {
      frames.push(compressFrame(loaded, data.subarray(offset, offset + frameInputBytes), level));
      offset += frameInputBytes;
    } while (offset < data.length);
    const only = frames.length === 1 ? frames[0]! : undefined; // a request body: no copy
    return only ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(frames);
  });
}

/**
 * Decompresses one or more concatenated frames (skippable frames are skipped). Throws
 * `ZstdError` — `ZSTD_TOO_LARGE` as soon as the output passes `maxBytes`.
 */
export async function zstdDecompress(data: Buffer, maxBytes: number): Promise<Buffer> {
  const { units, frames } = decoderUnits(data);
  if (units.length === 0) return Buffer.alloc(0);
  const only = frames.length === 1 ? frames[0]! : undefined;
  // An empty frame goes the streaming way: the binding refuses a zero-sized destination.
  if (only?.contentSize !== undefined && only.contentSize > 0 && only.contentSize <= maxOneShotBytes) {
    if (only.contentSize > maxBytes) throw new ZstdError('ZSTD_TOO_LARGE', `zstd data decompresses to more than ${maxBytes} bytes`);
    const contentSize = only.contentSize;
    return withWasm((loaded) => decompressFrame(loaded, data.subarray(only.start, only.end), contentSize));
  }
  return withWasm(({ wasm }) => {
    const chunks: Uint8Array[] = [];
    let produced = 0;
    const collect = (chunk: Uint8Array): void => {
      produced += chunk.length;
      if (produced <= maxBytes) chunks.push(chunk);
    };
    const decoder = new wasm.ZstdDecompressStreamBinding();
    try {
      if (!decoder.begin()) throw new ZstdError('ZSTD_OUT_OF_MEMORY', 'zstd decoder could not be created');
      for (const unit of units) {
        if (!decoder.transform(unit, collect)) throw new ZstdError('ZSTD_CORRUPT', 'zstd data is corrupt');
        if (produced > maxBytes) throw new ZstdError('ZSTD_TOO_LARGE', `zstd data decompresses to more than ${maxBytes} bytes`);
      }
      if (!decoder.end(collect)) throw new ZstdError('ZSTD_CORRUPT', 'zstd data is corrupt');
    } finally {
      decoder.delete();
    }
    return Buffer.concat(chunks, produced);
  });
}

// ---- the wasm module -------------------------------------------------------------------------

interface WasmVector {
  resize(size: number, fill: number): void;
  delete(): void;
}

type OutputCallback = (chunk: Uint8Array) => void;

/** The embind surface of zstd-codec's binding that we use (see cpp/src/binding in its repo). */
interface ZstdWasm {
  VectorU8: new () => WasmVector;
  ZstdCodec: new () => {
    compressBound(size: number): number;
    compress(dest: WasmVector, src: WasmVector, level: number): number;
    /** ZSTD_decompress into `dest` as sized; the decompressed size, or negative on error. */
    decompress(dest: WasmVector, src: WasmVector): number;
    delete(): void;
  };
  ZstdDecompressStreamBinding: new () => {
    begin(): boolean;
    /** Copies `chunk` into the heap; calls back with copies of each output buffer. */
    transform(chunk: Uint8Array, onOutput: OutputCallback): boolean;
    end(onOutput: OutputCallback): boolean;
    delete(): void;
  };
  cloneToVector(dest: WasmVector, src: Uint8Array): void;
  cloneAsTypedArray(src: WasmVector): Uint8Array;
}

const requireCommonJs = createRequire(import.meta.url);

type ZstdCodec = InstanceType<ZstdWasm['ZstdCodec']>;

/**
 * An instance and the objects kept on it between calls. Making a codec and two vectors per call
 * (embind handles, heap allocations, a zero fill) cost a quarter of a 100 KB log body's
 * compression and a third of its decompression (280–320 against 385–440 µs, and 133–141
 * against 175–215 µs, here, alternated in one process).
 * The codec holds no state between calls (ZSTD_compress / ZSTD_decompress). The vectors keep
 * their capacity, so only calls within `KEPT_VECTOR_BYTES` use them: larger ones would hold on
 * to heap that the fixed 16 MiB wasm memory needs for the next large call.
 */
interface LoadedWasm {
  wasm: ZstdWasm;
  codec: ZstdCodec;
  kept: { source: WasmVector; destination: WasmVector };
}

/** The agent's bodies (500 lines of a few hundred bytes) fit; at most 2 × 256 KiB of the heap stays taken. */
const KEPT_VECTOR_BYTES = 256 * 1024;

/**
 * Boxed: the Emscripten module object has a `then` method that calls back synchronously with
 * itself, so resolving a promise with the bare module would recurse forever.
 */
let wasmInstance: Promise<LoadedWasm> | undefined;

function loadWasm(): Promise<LoadedWasm> {
  wasmInstance ??= new Promise((resolve) => {
    const zstdModule = requireCommonJs('zstd-codec/lib/module.js') as { run(onReady: (wasm: ZstdWasm) => void): void };
    zstdModule.run((wasm) => resolve({ wasm, codec: new wasm.ZstdCodec(), kept: { source: new wasm.VectorU8(), destination: new wasm.VectorU8() } }));
  });
  return wasmInstance;
}

async function withWasm<T>(work: (loaded: LoadedWasm) => T): Promise<T> {
  const loaded = await loadWasm();
  try {
    return work(loaded);
  } catch (error) {
    if (error instanceof ZstdError) throw error;
    // Emscripten's abort() throws a string such as "abort(OOM)"; the instance may have leaked
    // heap on the way out, so replace it.
    wasmInstance = undefined;
    throw new ZstdError('ZSTD_OUT_OF_MEMORY', `zstd ran out of wasm memory: ${String(error)}`);
  }
}

/** Runs `work` with the kept vectors when `largestBytes` fits them, else with new ones freed after. */
function withVectors<T>({ wasm, kept }: LoadedWasm, largestBytes: number, work: (source: WasmVector, destination: WasmVector) => T): T {
  if (largestBytes <= KEPT_VECTOR_BYTES) return work(kept.source, kept.destination);
  const source = new wasm.VectorU8();
  const destination = new wasm.VectorU8();
  try {
    return work(source, destination);
  } finally {
    destination.delete();
    source.delete();
  }
}

/**
 * One frame that declares its content size, decompressed in one call into a buffer of exactly
 * that size — what every request body and spool frame of ours is. About three times faster than
 * the streaming decoder (0.75 ms against 2.7 ms for a 167 KB PutRecords body, same run), which
 * calls back into JavaScript and copies once per block. The decoder never writes past the
 * declared size: a frame whose blocks hold more (or less) is corrupt.
 */
function decompressFrame(loaded: LoadedWasm, frame: Uint8Array, contentSize: number): Buffer {
  const { wasm, codec } = loaded;
  return withVectors(loaded, Math.max(frame.length, contentSize), (source, destination) => {
    wasm.cloneToVector(source, frame);
    destination.resize(contentSize, 0);
    const size = codec.decompress(destination, source);
    if (size !== contentSize) throw corrupt(size < 0 ? 'the decoder refused it' : `it holds ${size} bytes, its header says ${contentSize}`);
    const output = wasm.cloneAsTypedArray(destination);
    return Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  });
}

function compressFrame(loaded: LoadedWasm, input: Uint8Array, level: number): Uint8Array {
  const { wasm, codec } = loaded;
  const bound = codec.compressBound(input.length);
  return withVectors(loaded, bound, (source, destination) => {
    wasm.cloneToVector(source, input);
    destination.resize(bound, 0);
    // The simple API writes the frame content size, so decoders can size their window to it.
    const size = codec.compress(destination, source, level);
    if (size < 0) throw new ZstdError('ZSTD_OUT_OF_MEMORY', 'zstd compression failed');
    destination.resize(size, 0);
    return wasm.cloneAsTypedArray(destination);
  });
}

// ---- frame walking (RFC 8878 §3.1) ----------------------------------------------------------

const zstdMagic = 0xfd2fb528;
const skippableMagicMask = 0xfffffff0;
const skippableMagic = 0x184d2a50;
const blockSizeMax = 128 * 1024; // RFC 8878 §3.1.1.2: Block_Maximum_Size is at most 128 KiB
const blockHeaderBytes = 3;
const checksumBytes = 4;

/**
 * Splits `data` into the byte ranges to hand the decoder, one per block: the first block of a
 * frame carries the frame header, the last carries the checksum. Feeding whole blocks matters:
 * the binding drains the decoder only while it has input left, so output that a call could not
 * flush would be lost at the end; a single block never produces more than one output buffer.
 */
function decoderUnits(data: Buffer): { units: Uint8Array[]; frames: FrameInfo[] } {
  const units: Uint8Array[] = [];
  const frames: FrameInfo[] = [];
  let offset = 0;
  while (offset < data.length) {
    need(data, offset, 4);
    const magic = data.readUInt32LE(offset);
    if ((magic & skippableMagicMask) >>> 0 === skippableMagic) {
      need(data, offset, 8);
      offset += 8 + data.readUInt32LE(offset + 4);
      if (offset > data.length) throw corrupt('truncated skippable frame');
      continue;
    }
    if (magic !== zstdMagic) throw corrupt('not a zstd frame');
    const frame = walkFrame(data, offset, units);
    frames.push(frame);
    offset = frame.end;
  }
  return { units, frames };
}

interface FrameInfo {
  start: number;
  /** Offset just past the frame. */
  end: number;
  /** Frame_Content_Size, when the header carries it. */
  contentSize: number | undefined;
}

/** Appends the frame's units; returns where it ends and its declared content size. */
function walkFrame(data: Buffer, frameStart: number, units: Uint8Array[]): FrameInfo {
  let offset = frameStart + 4;
  need(data, offset, 1);
  const descriptor = data[offset]!;
  offset += 1;
  const contentSizeFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03]!;
  if ((descriptor & 0x08) !== 0) throw corrupt('reserved bit set in frame header');
  if (dictionaryIdBytes > 0) throw new ZstdError('ZSTD_UNSUPPORTED', 'zstd frames that need a dictionary are not supported');

  let windowSize = 0;
  if (!singleSegment) {
    need(data, offset, 1);
    const windowDescriptor = data[offset]!;
    offset += 1;
    const windowBase = 2 ** (10 + (windowDescriptor >> 3));
    windowSize = windowBase + (windowBase / 8) * (windowDescriptor & 0x07);
  }
  const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag]!;
  need(data, offset, contentSizeBytes);
  const contentSize = contentSizeBytes === 0 ? undefined : readContentSize(data, offset, contentSizeBytes);
  if (singleSegment) windowSize = contentSize!;
  offset += contentSizeBytes;
  if (windowSize > maxWindowBytes) {
    throw new ZstdError('ZSTD_UNSUPPORTED', `zstd window of ${windowSize} bytes exceeds the supported ${maxWindowBytes}`);
  }
  const blockMaximum = Math.min(windowSize, blockSizeMax);

  let unitStart = frameStart;
  for (;;) {
    need(data, offset, blockHeaderBytes);
    const header = data.readUIntLE(offset, blockHeaderBytes);
    const lastBlock = (header & 1) === 1;
    const blockType = (header >> 1) & 0x03;
    const blockSize = header >>> 3;
    if (blockType === 3) throw corrupt('reserved block type');
    if (blockSize > blockMaximum) throw corrupt('block larger than the frame allows');
    offset += blockHeaderBytes + (blockType === 1 ? 1 : blockSize); // RLE blocks hold one byte
    if (lastBlock && hasChecksum) offset += checksumBytes;
    if (offset > data.length) throw corrupt('truncated frame');
    units.push(data.subarray(unitStart, offset));
    unitStart = offset;
    if (lastBlock) return { start: frameStart, end: offset, contentSize };
  }
}

function readContentSize(data: Buffer, offset: number, bytes: number): number {
  switch (bytes) {
    case 1:
      return data[offset]!;
    case 2:
      return data.readUInt16LE(offset) + 256; // RFC 8878 §3.1.1.1.4: the 2-byte form is offset by 256
    case 4:
      return data.readUInt32LE(offset);
    default:
      return Number(data.readBigUInt64LE(offset));
  }
}

function need(data: Buffer, offset: number, bytes: number): void {
  if (offset + bytes > data.length) throw corrupt('truncated frame');
}

function corrupt(reason: string): ZstdError {
  return new ZstdError('ZSTD_CORRUPT', `zstd data is corrupt: ${reason}`);
}
