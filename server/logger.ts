/** Structured logs (pino). Modules take a child logger: `logger.child({ module: 'stomp' })`. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level: string; pretty?: boolean; base?: Record<string, unknown> }): Logger {
  return pino({
    level: opts.level,
    base: opts.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(opts.pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}
