/**
 * The CompressionFormat of a delivered object: UNCOMPRESSED, GZIP, ZIP, Snappy (the snappy
 * framing format, as Firehose writes it), HADOOP_SNAPPY (Hadoop's block stream, readable by
 * Hadoop/Hive/Spark `SnappyCodec`) and ZSTD (a Riffle extension). Each format also names the
 * file extension Firehose adds when `FileExtension` is not set.
 */
import { promisify } from 'node:util';
import { crc32, deflateRaw, gzip } from 'node:zlib';
import snappy from 'snappyjs';
import { zstdCompress } from '../../shared/zstd.js';

export type CompressionFormat = 'UNCOMPRESSED' | 'GZIP' | 'ZIP' | 'Snappy' | 'HADOOP_SNAPPY' | 'ZSTD';

const gzipAsync = promisify(gzip);
const deflateRawAsync = promisify(deflateRaw);

export const compressionExtensions: Record<CompressionFormat, string> = {
  UNCOMPRESSED: '',
  GZIP: '.gz',
  ZIP: '.zip',
  Snappy: '.snappy',
  HADOOP_SNAPPY: '.snappy',
  ZSTD: '.zst',
};

/** `entryName`: the one file inside a ZIP archive (the object's name without `.zip`). */
export async function compress(format: CompressionFormat, data: Buffer, entryName: string): Promise<Buffer> {
  switch (format) {
    case 'UNCOMPRESSED':
      return data;
    case 'GZIP':
      // Level 1: on a 2-core appliance level 6 (zlib's default) made delivery fall behind ingest
      // (bench:firehose: 0.6× vs 1.0× ingest) for ~2× smaller objects; AWS does not document its level.
      return gzipAsync(data, { level: 1 });
    case 'ZIP':
      return zipSingleEntry(entryName, data);
    case 'Snappy':
      return snappyFramed(data);
    case 'HADOOP_SNAPPY':
      return hadoopSnappy(data);
    case 'ZSTD':
      return zstdCompress(data);
  }
}

// --- snappy framing format (github.com/google/snappy framing_format.txt) -------------------------

const SNAPPY_STREAM_IDENTIFIER = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
/** framing_format.txt §4.2: a chunk holds at most 65,536 bytes of uncompressed data. */
const SNAPPY_FRAME_MAX_BYTES = 65536;
const SNAPPY_CHUNK_COMPRESSED = 0x00;
const SNAPPY_CHUNK_UNCOMPRESSED = 0x01;

function snappyFramed(data: Buffer): Buffer {
  const parts: Buffer[] = [SNAPPY_STREAM_IDENTIFIER];
  for (let offset = 0; offset < data.length; offset += SNAPPY_FRAME_MAX_BYTES) {
    const chunk = data.subarray(offset, offset + SNAPPY_FRAME_MAX_BYTES);
    const compressed = Buffer.from(snappy.compress(new Uint8Array(chunk)));
    // framing_format.txt §4.2: store the chunk raw when compression does not help.
    const [type, body] = compressed.length < chunk.length ? [SNAPPY_CHUNK_COMPRESSED, compressed] : [SNAPPY_CHUNK_UNCOMPRESSED, chunk];
    const header = Buffer.alloc(8);
    header.writeUIntLE(body.length + 4, 1, 3);
    header[0] = type;
    header.writeUInt32LE(maskedCrc32c(chunk), 4);
    parts.push(header, body);
  }
  return Buffer.concat(parts);
}

/** framing_format.txt §3: CRC-32C, rotated right by 15 bits plus 0xa282ead8. */
function maskedCrc32c(data: Buffer): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

const crc32cTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = crc32cTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// --- Hadoop snappy block stream (hadoop BlockCompressorStream) -----------------------------------

/** Hadoop's default io.compression.codec.snappy.buffersize (256 KiB) bounds a block's raw size. */
const HADOOP_SNAPPY_BLOCK_BYTES = 256 * 1024;

function hadoopSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += HADOOP_SNAPPY_BLOCK_BYTES) {
    const block = data.subarray(offset, offset + HADOOP_SNAPPY_BLOCK_BYTES);
    const compressed = Buffer.from(snappy.compress(new Uint8Array(block)));
    // Per block: u32 BE raw length, then one u32 BE compressed length and the compressed bytes.
    const header = Buffer.alloc(8);
    header.writeUInt32BE(block.length, 0);
    header.writeUInt32BE(compressed.length, 4);
    parts.push(header, compressed);
  }
  return Buffer.concat(parts);
}

// --- ZIP with one deflated entry (PKWARE APPNOTE.TXT §4.3) ---------------------------------------

async function zipSingleEntry(name: string, data: Buffer): Promise<Buffer> {
  const deflated = await deflateRawAsync(data);
  const nameBytes = Buffer.from(name, 'utf8');
  const checksum = crc32(data);
  // APPNOTE 4.4.6: DOS time/date; 1980-01-01 00:00 keeps the bytes independent of the clock.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
  local.writeUInt16LE(0x0800, 6); // general purpose flag bit 11: UTF-8 name
  local.writeUInt16LE(8, 8); // method: deflate
  local.writeUInt16LE(dosTime, 10);
  local.writeUInt16LE(dosDate, 12);
  local.writeUInt32LE(checksum, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // version made by
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(dosTime, 12);
  central.writeUInt16LE(dosDate, 14);
  central.writeUInt32LE(checksum, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42); // offset of the local header
  const centralOffset = local.length + nameBytes.length + deflated.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, deflated, central, nameBytes, end]);
}
