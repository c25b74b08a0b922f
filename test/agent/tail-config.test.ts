/**
 * The tail source's options: `filePattern` as the Kinesis Agent reads it (one literal directory,
 * a Java glob in the last component) and the checks on the other options, by error code.
 */
import { describe, expect, it } from 'vitest';
import { resolveTailSpec, type TailSourceSpec } from '../../agent/sources/tail/config.js';
import { parseFilePattern } from '../../agent/sources/tail/file-pattern.js';
import { tailErrorCodes } from '../../agent/sources/tail/index.js';

describe('filePattern', () => {
  const matching = (pattern: string, names: string[]) => names.filter((name) => parseFilePattern(pattern).matches(name));

  it('matches names in its directory with Java glob syntax', () => {
    const names = ['app.log', 'app.log.1', 'app.log.2026-01-01', '.app.log', 'app.txt', 'app-x.log', 'app.LOG', 'a+b.log'];
    expect(matching('/var/log/app.log*', names)).toEqual(['app.log', 'app.log.1', 'app.log.2026-01-01']);
    expect(matching('/var/log/*.log', names)).toEqual(['app.log', '.app.log', 'app-x.log', 'a+b.log']);
    expect(matching('/var/log/app.log.?', names)).toEqual(['app.log.1']);
    expect(matching('/var/log/app.{log,txt}', names)).toEqual(['app.log', 'app.txt']);
    expect(matching('/var/log/app.[!l]*', names)).toEqual(['app.txt', 'app.LOG']);
    expect(matching('/var/log/app.[a-m]*', names)).toEqual(['app.log', 'app.log.1', 'app.log.2026-01-01']);
    expect(matching('/var/log/a+b.log', names)).toEqual(['a+b.log']);
    expect(matching('/var/log/app\\*', ['app*', 'app.log'])).toEqual(['app*']);
    expect(parseFilePattern('/var//log/./app.log').directory).toBe('/var/log');
  });

  it('refuses what the agent cannot watch, with its code', () => {
    for (const pattern of ['app.log', '/var/log/', '/var/*/app.log', '/var/log/app.[log', '/var/log/app.{log', '/var/log/app.log}', '/var/log/{a,{b,c}}', '/var/log/app\\']) {
      expect(() => parseFilePattern(pattern), pattern).toThrow(expect.objectContaining({ code: tailErrorCodes.invalidFilePattern }));
    }
  });
});

describe('tail options', () => {
  const spec: TailSourceSpec = { flowId: 'f', filePattern: '/var/log/*.log', initialPosition: 'END_OF_FILE', skipHeaderLines: 0, truncatedRecordTerminator: '\n', maxRecordBytes: 1000 };

  it('takes the defaults of Fluent Bit and the Kinesis Agent where the flow says nothing', () => {
    expect(resolveTailSpec(spec)).toMatchObject({ rotateWaitMillis: 5000, multiLineFlushMillis: 4000, scanIntervalMillis: 10_000, pollIntervalMillis: 1000, readChunkBytes: 256 * 1024 });
  });

  it('refuses bad options with TAIL_INVALID_OPTION', () => {
    for (const bad of [
      { truncatedRecordTerminator: 'x'.repeat(1000) },
      { maxRecordBytes: 0 },
      { skipHeaderLines: -1 },
      { multiLineStartPattern: '(' },
      { rotateWaitMillis: 0 },
      { readChunkBytes: 1.5 },
    ]) {
      expect(() => resolveTailSpec({ ...spec, ...bad }), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: tailErrorCodes.invalidOption }));
    }
  });
});
