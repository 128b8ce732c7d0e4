/**
 * Entry point: node bin/run-ts.js games/reference/server/main.ts --port <ws> --admin-port <admin> --database-url <url> [--defect <name>]
 * Exit codes: 0 after a graceful stop, 3 for bad flags, 2 when a port cannot be bound, 1 on a crash.
 */
import { ConfigError, parseConfig, USAGE } from './config';
import { createLogger, errorText } from './log';
import { startBackend } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`lagstorm backend: ${error.message}\n${error.message.includes('usage:') ? '' : USAGE + '\n'}`);
      process.exit(3);
    }
    throw error;
  }
  const log = createLogger();
  process.on('uncaughtException', (error) => {
    log('error', 'uncaught exception; exiting', { error: error.message, stack: error.stack });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    log('error', 'unhandled rejection; exiting', { error: errorText(reason) });
    process.exit(1);
  });

  let backend;
  try {
    backend = await startBackend(config, log);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    log('error', 'backend could not start', { error: errorText(error), code });
    process.exit(code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES' ? 2 : 1);
  }
  const running = backend;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log('warn', `second ${signal}: exiting without draining`);
      process.exit(1);
    }
    log('info', `received ${signal}`);
    running.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log('error', 'shutdown failed', { error: errorText(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

void main();
