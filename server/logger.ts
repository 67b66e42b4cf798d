/**
 * The server's logger: writes to stderr (or stdout with `--log-stdout`) and keeps the last lines
 * in a ring buffer for `/internal/logs` and the `logs` WebSocket subscription (as ComfyUI's
 * app/logger.py does, 300 entries).
 */
import type { Logger } from '../nodes/node-api.js';

export interface LogEntry {
  /** ISO time. */
  t: string;
  /** The line, newline-terminated as ComfyUI stores it. */
  m: string;
}

const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;

export class LogBuffer {
  private readonly entries: LogEntry[] = [];
  private readonly listeners = new Set<(entries: LogEntry[]) => void>();
  constructor(private readonly capacity = 300) {}

  push(message: string): void {
    const entry = { t: new Date().toISOString(), m: message.endsWith('\n') ? message : `${message}\n` };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
    for (const l of this.listeners) l([entry]);
  }

  all(): LogEntry[] {
    return this.entries.slice();
  }

  /** Returns the unsubscribe function. */
  onEntries(listener: (entries: LogEntry[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface ServerLogger extends Logger {
  readonly buffer: LogBuffer;
}

export interface LoggerOptions {
  level?: string;
  /** Write to stdout instead of stderr. */
  stdout?: boolean;
  /** Keep lines in the buffer only (tests). */
  silent?: boolean;
  buffer?: LogBuffer;
}

export function createLogger(opts: LoggerOptions = {}): ServerLogger {
  const buffer = opts.buffer ?? new LogBuffer();
  const threshold = Math.max(0, LEVELS.indexOf((opts.level ?? 'INFO').toUpperCase() as (typeof LEVELS)[number]));
  const stream = opts.stdout ? process.stdout : process.stderr;
  const write = (level: number, msg: string, rest: unknown[]) => {
    if (level < threshold) return;
    const text = rest.length ? `${msg} ${rest.map(formatArg).join(' ')}` : msg;
    buffer.push(text);
    if (!opts.silent) stream.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  return {
    buffer,
    debug: (m, ...r) => write(0, m, r),
    info: (m, ...r) => write(1, m, r),
    warn: (m, ...r) => write(2, m, r),
    error: (m, ...r) => write(3, m, r),
  };
}

function formatArg(arg: unknown): string {
  if (arg instanceof Error) return arg.stack ?? arg.message;
  return typeof arg === 'string' ? arg : JSON.stringify(arg);
}
