/** Structured logs: one JSON object per line on stdout (journald keeps them as they are). */
export type LogFields = Record<string, unknown>;
export type Logger = (event: string, fields?: LogFields) => void;

export function createLogger(component: string, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  return (event, fields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), component, event, ...fields }) + '\n');
  };
}
