/** One JSON line per event on stdout: the stack appends it to logs/backend.log. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export function createLogger(write: (line: string) => void = (line) => process.stdout.write(line + '\n'), minLevel: LogLevel = 'info'): Logger {
  const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return (level, message, fields) => {
    if (order[level] < order[minLevel]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
  };
}

export const silentLogger: Logger = () => undefined;

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
