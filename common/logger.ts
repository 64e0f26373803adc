/**
 * The one logger configuration, for the main thread and the actor workers alike: pino JSON lines on
 * stdout (what log collectors and the test harness read), or, when stdout is a terminal and the dev
 * dependency pino-pretty is installed, readable colored lines. The main thread decides and tells the
 * workers (a worker's stdout is never a terminal).
 */
import pino, { type Logger } from 'pino';

export interface LogSettings {
  readonly level: string;
  readonly pretty: boolean;
}

/** Pretty output when stdout is a terminal and pino-pretty is there (it is a dev dependency). */
export function logSettings(level: string): LogSettings {
  let pretty = false;
  if (process.stdout.isTTY) {
    try {
      require.resolve('pino-pretty');
      pretty = true;
    } catch {
      pretty = false;
    }
  }
  return { level, pretty };
}

export function createLogger(settings: LogSettings, base: Record<string, unknown>): Logger {
  return pino({
    level: settings.level,
    base,
    ...(settings.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}
