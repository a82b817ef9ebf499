// Logs: JSON lines for machines (journald, balena), pretty lines when a person watches a terminal.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  const options: LoggerOptions = { level, base: { app: 'station' } };
  if (pretty)
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app' } },
    });
  return pino(options);
}
