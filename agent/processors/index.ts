/**
 * `dataProcessingOptions`, as the Amazon Kinesis Agent has them: a list of options applied to
 * every record in order, each chosen by its `optionName`. Adding an option: write its spec in
 * this folder and list it in `specs` below.
 */
import { ConfigError, checkObject } from '../../shared/config-values.js';
import { systemClock } from '../../shared/clock.js';
import { addBrackets } from './add-brackets.js';
import { addMetadata } from './add-metadata.js';
import { csvToJson } from './csv-to-json.js';
import { logToJson } from './log-to-json.js';
import { isProcessFailure, type KeyNamer, type Processor, type ProcessorContext, type ProcessorSpec } from './processor.js';
import { singleLine } from './single-line.js';

export { isProcessFailure, parseFailure, type ProcessFailure, type ProcessFailureCode, type ProcessResult, type Processor } from './processor.js';

type BuildProcessor = (option: Record<string, unknown>, at: KeyNamer, context: ProcessorContext) => Processor;

const registry = new Map<string, { keys: readonly string[]; build: BuildProcessor }>();

function register<Config>(spec: ProcessorSpec<Config>): void {
  registry.set(spec.optionName, { keys: spec.keys, build: (option, at, context) => spec.create(spec.parse(option, at), context) });
}

register(singleLine);
register(csvToJson);
register(logToJson);
register(addMetadata);
register(addBrackets);

export const optionNames: readonly string[] = [...registry.keys()];

/**
 * One processor running `options` in order (none: records pass unchanged); the first failure
 * stops the chain. `where` names the flow in config errors (e.g. "/etc/riffle/agent.json:
 * flows[0]"), which then name the option's index and key: `… key 'dataProcessingOptions[1].logFormat'`.
 */
export function buildProcessors(options: readonly unknown[], where: string, context: ProcessorContext = { clock: systemClock }): Processor {
  const chain = options.map((raw, index) => {
    const at: KeyNamer = (key) => `${where}: key 'dataProcessingOptions[${index}]${key === '' ? '' : `.${key}`}'`;
    const option = checkObject(raw, at(''));
    const entry = typeof option.optionName === 'string' ? registry.get(option.optionName) : undefined;
    if (!entry) throw new ConfigError(at('optionName'), `must be one of ${optionNames.join(', ')}, got ${JSON.stringify(option.optionName)}`);
    for (const key of Object.keys(option)) {
      if (key !== 'optionName' && !entry.keys.includes(key)) throw new ConfigError(at(key), `unknown key for ${option.optionName as string}`);
    }
    return entry.build(option, at, context);
  });
  return (data) => {
    let result = data;
    for (const processor of chain) {
      const next = processor(result);
      if (isProcessFailure(next)) return next;
      result = next;
    }
    return result;
  };
}
