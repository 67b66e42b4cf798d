/**
 * The audit log: one JSON line per HTTP request and WebSocket connection (time, user, method,
 * route, prompt id, client address, status, outcome). Lines go through a buffered async
 * WriteStream, so a request never waits for the disk. Past `maxBytes` the file is renamed to
 * `.1` (`.1` → `.2` …, `keep` old files) and a new one is opened; on POSIX the old stream keeps
 * writing its buffered tail into the renamed file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

export interface AuditRecord {
  user: string | null;
  method: string;
  route: string;
  status: number;
  outcome: 'ok' | 'denied' | 'error';
  client: string | null;
  prompt_id?: string;
}

export interface AuditLogOptions {
  file: string;
  maxBytes: number;
  keep?: number;
}

export class AuditLog {
  private stream: fs.WriteStream;
  private size: number;
  private readonly keep: number;

  constructor(private readonly opts: AuditLogOptions) {
    this.keep = opts.keep ?? 5;
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    this.size = fs.existsSync(opts.file) ? fs.statSync(opts.file).size : 0;
    this.stream = this.open();
  }

  private open(): fs.WriteStream {
    // Opened synchronously: the descriptor follows the file through a rename during rotation.
    const fd = fs.openSync(this.opts.file, 'a', 0o600);
    const s = fs.createWriteStream('', { fd });
    s.on('error', () => {}); // a full disk must not take the server down; the log is best-effort
    return s;
  }

  write(record: AuditRecord): void {
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`;
    if (this.size > 0 && this.size + line.length > this.opts.maxBytes) this.rotate();
    this.stream.write(line);
    this.size += Buffer.byteLength(line);
  }

  private rotate(): void {
    const { file } = this.opts;
    for (let i = this.keep - 1; i >= 1; i--) {
      if (fs.existsSync(`${file}.${i}`)) fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    }
    fs.renameSync(file, `${file}.1`);
    this.stream.end();
    this.stream = this.open();
    this.size = 0;
  }

  /** Flushes and closes the stream. */
  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}

function outcomeOf(status: number): AuditRecord['outcome'] {
  if (status === 401 || status === 403 || status === 429) return 'denied';
  return status >= 400 ? 'error' : 'ok';
}

/** Routes may set `res.locals.auditPromptId` to name the prompt a request queued or touched. */
export function auditMiddleware(log: AuditLog, userOf: (req: Request) => string | null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.on('finish', () => {
      const promptId = (res.locals['auditPromptId'] as string | undefined) ?? (req.params?.['jobId'] as string | undefined);
      log.write({
        user: userOf(req),
        method: req.method,
        route: req.originalUrl.split('?')[0] ?? '',
        status: res.statusCode,
        outcome: outcomeOf(res.statusCode),
        client: req.socket.remoteAddress ?? null,
        ...(promptId ? { prompt_id: promptId } : {}),
      });
    });
    next();
  };
}
