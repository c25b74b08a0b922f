import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maxWindowBytes, zstdCompress, zstdDecompress, ZstdError, type ZstdErrorCode } from '../../shared/zstd.js';

const zstdCli = '/usr/bin/zstd';
const MiB = 1024 * 1024;

/** Compressible but not trivially so: log-like lines with varying numbers. */
function logLines(bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let index = 0; length < bytes; index++) {
    const line = `2026-01-01T00:00:${String(index % 60).padStart(2, '0')}Z sensor=${index % 17} value=${(index * 7919) % 10007}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

async function zstdErrorCode(promise: Promise<unknown>): Promise<ZstdErrorCode> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ZstdError)) throw new Error(`expected a ZstdError, got ${String(error)}`);
  return error.code;
}

function cli(args: string[], input: Buffer): Buffer {
  const result = spawnSync(zstdCli, ['-q', ...args], { input, maxBuffer: 256 * MiB });
  if (result.status !== 0) throw new Error(`zstd ${args.join(' ')} failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** A frame header that declares a window but carries one empty last block (RFC 8878 §3.1.1). */
function frameDeclaringWindow(windowDescriptor: number): Buffer {
  return Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, windowDescriptor, 0x01, 0x00, 0x00]);
}

describe('zstd', () => {
  it('round-trips empty, small, incompressible and multi-frame inputs', async () => {
    for (const input of [Buffer.alloc(0), Buffer.from('hello zstd'), randomBytes(300_000), logLines(3.5 * MiB)]) {
      const compressed = await zstdCompress(input);
      expect((await zstdDecompress(compressed, input.length)).equals(input)).toBe(true);
    }
  });

  it('cuts input into independent frames of at most 1 MiB', async () => {
    const input = logLines(2.5 * MiB);
    const whole = await zstdCompress(input);
    const framewise = Buffer.concat([
      await zstdCompress(input.subarray(0, MiB)),
      await zstdCompress(input.subarray(MiB, 2 * MiB)),
      await zstdCompress(input.subarray(2 * MiB)),
    ]);
    expect(whole.equals(framewise)).toBe(true);
  });

  it('compresses at high levels without exhausting the wasm heap', async () => {
    // Above 1 MiB, so levels from 10 up need their smaller frames.
    const input = logLines(1.1 * MiB);
    for (const level of [9, 10, 19]) {
      const compressed = await zstdCompress(input, level);
      expect((await zstdDecompress(compressed, input.length)).equals(input)).toBe(true);
    }
  });

  it('decodes concatenated frames and skips skippable frames', async () => {
    const first = Buffer.from('first frame;');
    const second = logLines(200_000);
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('xyz')]);
    const stream = Buffer.concat([await zstdCompress(first), skippable, await zstdCompress(second)]);
    expect((await zstdDecompress(stream, MiB)).equals(Buffer.concat([first, second]))).toBe(true);
  });

  it('refuses output beyond maxBytes, also from a small bomb', async () => {
    const input = logLines(300_000);
    const compressed = await zstdCompress(input);
    expect((await zstdDecompress(compressed, input.length)).length).toBe(input.length);
    expect(await zstdErrorCode(zstdDecompress(compressed, input.length - 1))).toBe('ZSTD_TOO_LARGE');

    const bomb = await zstdCompress(Buffer.alloc(64 * MiB));
    expect(bomb.length).toBeLessThan(MiB);
    expect(await zstdErrorCode(zstdDecompress(bomb, 16 * MiB))).toBe('ZSTD_TOO_LARGE');
  });

  it('refuses windows above the supported size before decoding, and keeps working', async () => {
    // Window descriptor: exponent in the top 5 bits (windowLog = 10 + exponent).
    const log23 = (23 - 10) << 3;
    const log24 = (24 - 10) << 3;
    expect(2 ** 23).toBe(maxWindowBytes);
    expect((await zstdDecompress(frameDeclaringWindow(log23), 10)).length).toBe(0);
    expect(await zstdErrorCode(zstdDecompress(frameDeclaringWindow(log24), 10))).toBe('ZSTD_UNSUPPORTED');
    const input = Buffer.from('still working');
    expect((await zstdDecompress(await zstdCompress(input), 100)).equals(input)).toBe(true);
  });

  it('decodes a sized frame in one call, and refuses one whose header misstates its content size', async () => {
    const input = logLines(150_000); // a PutRecords body's size: one frame that declares it
    const compressed = await zstdCompress(input, 1);
    expect((await zstdDecompress(compressed, input.length)).equals(input)).toBe(true);
    // Frame header (RFC 8878 §3.1.1.1): the content size field follows the descriptor (and the
    // window descriptor, when the frame is not single-segment).
    const descriptor = compressed[4]!;
    const singleSegment = (descriptor & 0x20) !== 0;
    expect(descriptor >> 6).toBe(2); // a 4-byte Frame_Content_Size, which 150 kB needs
    const sizeAt = 5 + (singleSegment ? 0 : 1);
    expect(compressed.readUInt32LE(sizeAt)).toBe(input.length);
    for (const declared of [input.length - 1, input.length + 1, 1000]) {
      const misstated = Buffer.from(compressed);
      misstated.writeUInt32LE(declared, sizeAt);
      expect(await zstdErrorCode(zstdDecompress(misstated, MiB))).toBe('ZSTD_CORRUPT');
    }
    expect((await zstdDecompress(compressed, input.length)).equals(input)).toBe(true);
  });

  it('keeps no bytes of one call in the next: bodies of falling, rising and mixed sizes, interleaved', async () => {
    // The codec's vectors are kept between calls up to 256 KiB; a shorter body after a longer
    // one, or a decompression after a compression, must see only its own bytes.
    const bodies = [200_000, 150_000, 40_000, 1, 90_000, 260_000, 200_000, 7].map((bytes, index) => {
      const body = logLines(bytes + index);
      body[body.length - 1] = index; // no two bodies alike, even where one is a prefix of another
      return body;
    });
    const compressed: Buffer[] = [];
    for (const body of bodies) compressed.push(await zstdCompress(body, 1));
    for (const [index, body] of bodies.entries()) {
      expect((await zstdDecompress(compressed[index]!, body.length)).equals(body)).toBe(true);
      expect((await zstdDecompress(await zstdCompress(body, 3), body.length)).equals(body)).toBe(true);
    }
    for (const [index, body] of [...bodies.entries()].reverse()) {
      expect((await zstdDecompress(compressed[index]!, body.length)).equals(body)).toBe(true);
    }
  });

  it('reports corrupt and truncated input', async () => {
    const compressed = await zstdCompress(logLines(100_000));
    expect(await zstdErrorCode(zstdDecompress(randomBytes(1000), MiB))).toBe('ZSTD_CORRUPT');
    expect(await zstdErrorCode(zstdDecompress(compressed.subarray(0, compressed.length - 10), MiB))).toBe('ZSTD_CORRUPT');
    const damaged = Buffer.from(compressed);
    damaged[Math.floor(damaged.length / 2)]! ^= 0xff;
    expect(await zstdErrorCode(zstdDecompress(damaged, MiB))).toBe('ZSTD_CORRUPT');
  });

  describe.skipIf(!existsSync(zstdCli))('interoperability with the zstd command-line tool', () => {
    it('produces frames the CLI decodes', async () => {
      const input = logLines(2.2 * MiB);
      expect(cli(['-d', '-c'], await zstdCompress(input)).equals(input)).toBe(true);
    });

    it('decodes what the CLI writes: sized, streamed (no content size), level 19 with an 8 MiB window, concatenated', async () => {
      const input = logLines(1.3 * MiB);
      const sized = cli(['-c', '-3', '--content-size'], input);
      // Streamed input has no content size, so level 19 keeps its full 8 MiB window; decoding it
      // repeatedly shows the decoder's window memory is released each time.
      const streamed19 = cli(['-c', '-19', '--no-content-size'], input.subarray(0, 50_000));
      expect((await zstdDecompress(sized, input.length)).equals(input)).toBe(true);
      for (let round = 0; round < 12; round++) {
        expect((await zstdDecompress(streamed19, input.length)).equals(input.subarray(0, 50_000))).toBe(true);
      }
      const concatenated = Buffer.concat([sized, streamed19]);
      expect((await zstdDecompress(concatenated, 2 * input.length)).equals(Buffer.concat([input, input.subarray(0, 50_000)]))).toBe(true);
    });

    it('refuses the 128 MiB window of --long', async () => {
      const long = cli(['-c', '-1', '--long=27', '--no-content-size'], logLines(10_000));
      expect(await zstdErrorCode(zstdDecompress(long, MiB))).toBe('ZSTD_UNSUPPORTED');
    });
  });
});
