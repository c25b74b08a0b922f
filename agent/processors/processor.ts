/**
 * What a data processing option is: a spec that checks its piece of `dataProcessingOptions` and
 * a factory that turns the checked config into a processor. Processors run once per record (a
 * line, with its '\n', as the tail source reads it) on the device, so they are synchronous and
 * never throw on data: a record they cannot convert comes back as a ProcessFailure, which the
 * pipeline counts and logs (the Kinesis Agent drops such records silently).
 */
import type { Clock } from '../../shared/clock.js';

export type ProcessFailureCode = 'PARSE_FAILED';

export interface ProcessFailure {
  readonly code: ProcessFailureCode;
  /** For logs: which option failed and why, without the record itself. */
  readonly reason: string;
}

export type ProcessResult = Buffer | ProcessFailure;
export type Processor = (data: Buffer) => ProcessResult;

export function isProcessFailure(result: ProcessResult): result is ProcessFailure {
  return !Buffer.isBuffer(result);
}

export function parseFailure(reason: string): ProcessFailure {
  return { code: 'PARSE_FAILED', reason };
}

/** What a factory may need besides its config. */
export interface ProcessorContext {
  clock: Clock;
}

/** Names a key of this option in config errors, e.g. `agent.json: flows[0]: key 'dataProcessingOptions[1].delimiter'`. */
export type KeyNamer = (key: string) => string;

export interface ProcessorSpec<Config> {
  /** The `optionName` that selects this option. */
  readonly optionName: string;
  /** The keys this option accepts besides `optionName`; any other key is a config error. */
  readonly keys: readonly string[];
  /** Checks the raw option; throws ConfigError naming the key. */
  parse(option: Record<string, unknown>, at: KeyNamer): Config;
  create(config: Config, context: ProcessorContext): Processor;
}
