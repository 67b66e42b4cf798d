/**
 * The WebSocket hub (spec §2): `/ws` and `/api/ws` on the HTTP server, one socket per sid,
 * feature-flag negotiation, JSON and binary messages. It is the executor's ExecutionEventSink.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { ExecutionEventSink, PreviewMeta } from '../executor/types.js';
import type { Logger, PreviewImage } from '../nodes/node-api.js';
import type { WorkerMessenger } from './queue/worker.js';
import type { LogEntry } from './logger.js';

/** Binary event types (ComfyUI `protocol.BinaryEventTypes`). */
export const BinaryEventType = { PREVIEW_IMAGE: 1, UNENCODED_PREVIEW_IMAGE: 2, TEXT: 3, PREVIEW_IMAGE_WITH_METADATA: 4 } as const;

interface Client {
  socket: WebSocket;
  sid: string;
  featureFlags: Record<string, unknown>;
  gotFirstMessage: boolean;
}

export interface WsHubOptions {
  /** pending + running, for `status` messages. */
  queueRemaining: () => number;
  /** The server feature flags sent in reply to the client's `feature_flags`. */
  serverFeatures: () => Record<string, unknown>;
  log: Logger;
  /** Refuses an upgrade (origin check); returns an HTTP status to answer with, or null to accept. */
  refuseUpgrade?: (req: http.IncomingMessage) => number | null;
  /** Terminal size reported with `logs` messages. */
  terminalSize?: () => { cols: number; rows: number };
}

export const WS_PATHS = ['/ws', '/api/ws'];

export class WsHub implements ExecutionEventSink, WorkerMessenger {
  private readonly clients = new Map<string, Client>();
  // aiohttp's default max_msg_size: clients only send small JSON here.
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  private runningClient: string | undefined;
  private lastNodeId: string | null = null;
  private readonly logSubscribers = new Set<string>();

  constructor(private readonly opts: WsHubOptions) {}

  /** Handles upgrades on `/ws` and `/api/ws` of this HTTP server. */
  attach(server: http.Server): void {
    server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
  }

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!WS_PATHS.includes(url.pathname)) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const refused = this.opts.refuseUpgrade?.(req) ?? null;
    if (refused !== null) {
      socket.end(`HTTP/1.1 ${refused} Forbidden\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, url.searchParams.get('clientId') ?? ''));
  }

  private onConnection(socket: WebSocket, requestedSid: string): void {
    // A known sid replaces the old socket (as ComfyUI does, the old one is dropped, not closed:
    // two tabs sharing an id must not knock each other off in a reconnect loop).
    const sid = requestedSid || randomUUID().replace(/-/g, '');
    const client: Client = { socket, sid, featureFlags: {}, gotFirstMessage: false };
    this.clients.set(sid, client);
    socket.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    socket.on('close', () => {
      if (this.clients.get(sid) === client) this.clients.delete(sid);
    });
    socket.on('error', (err) => this.opts.log.warn(`websocket ${sid}: ${err.message}`));
    this.sendTo(client, 'status', { status: this.queueInfo(), sid });
    if (this.runningClient === sid && this.lastNodeId !== null) this.sendTo(client, 'executing', { node: this.lastNodeId });
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    const first = !client.gotFirstMessage;
    client.gotFirstMessage = true;
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      this.opts.log.warn(`websocket ${client.sid}: ignoring a message that is not JSON`);
      return;
    }
    if (!first || !msg || typeof msg !== 'object') return;
    const { type, data: flags } = msg as { type?: unknown; data?: unknown };
    if (type !== 'feature_flags') return;
    client.featureFlags = flags && typeof flags === 'object' && !Array.isArray(flags) ? (flags as Record<string, unknown>) : {};
    this.sendTo(client, 'feature_flags', this.opts.serverFeatures());
  }

  private queueInfo(): { exec_info: { queue_remaining: number } } {
    return { exec_info: { queue_remaining: this.opts.queueRemaining() } };
  }

  private sendTo(client: Client, type: string, data: unknown): void {
    this.sendRaw(client, JSON.stringify({ type, data }));
  }

  private sendRaw(client: Client, payload: string | Buffer): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    // Send errors are not logged: log lines are themselves sent to subscribed sockets, and a
    // failing socket is dropped by its close handler anyway.
    client.socket.send(payload, () => {});
  }

  /** Targets: one sid (dropped silently if it has no socket) or, with sid undefined, everyone. */
  private targets(sid: string | undefined): Client[] {
    if (sid === undefined) return [...this.clients.values()];
    const c = this.clients.get(sid);
    return c ? [c] : [];
  }

  send(type: string, data: Record<string, unknown>, sid?: string): void {
    if (type === 'executing') this.lastNodeId = (data['node'] as string | null | undefined) ?? null;
    const payload = JSON.stringify({ type, data });
    for (const c of this.targets(sid)) this.sendRaw(c, payload);
  }

  broadcastStatus(): void {
    this.send('status', { status: this.queueInfo() });
  }

  setRunningClient(clientId: string | undefined): void {
    this.runningClient = clientId;
    this.lastNodeId = null;
  }

  /** Type 4 with metadata to sockets flagged `supports_preview_metadata: true`, else type 1. */
  sendPreview(image: PreviewImage, meta: PreviewMeta, sid?: string): void {
    const mime = image.format === 'png' ? 'image/png' : 'image/jpeg';
    let legacy: Buffer | undefined;
    let withMeta: Buffer | undefined;
    for (const c of this.targets(sid)) {
      if (c.featureFlags['supports_preview_metadata'] === true) {
        withMeta ??= encodePreviewWithMetadata(image, { ...meta, image_type: mime });
        this.sendRaw(c, withMeta);
      } else {
        legacy ??= encodePreview(image);
        this.sendRaw(c, legacy);
      }
    }
  }

  sendProgressText(nodeId: string, text: string, sid?: string): void {
    const frame = encodeProgressText(nodeId, text);
    for (const c of this.targets(sid)) this.sendRaw(c, frame);
  }

  /** `PATCH /internal/logs/subscribe`. */
  subscribeLogs(clientId: string, enabled: boolean): void {
    if (enabled) this.logSubscribers.add(clientId);
    else this.logSubscribers.delete(clientId);
  }

  sendLogs(entries: LogEntry[]): void {
    if (this.logSubscribers.size === 0) return;
    const size = this.opts.terminalSize?.() ?? { cols: 80, rows: 24 };
    for (const sid of this.logSubscribers) this.send('logs', { entries, size }, sid);
  }

  clientIds(): string[] {
    return [...this.clients.keys()];
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.socket.terminate();
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Type 1: `[1][format][image]`, format 1 = JPEG, 2 = PNG. */
export function encodePreview(image: PreviewImage): Buffer {
  return Buffer.concat([u32(BinaryEventType.PREVIEW_IMAGE), u32(image.format === 'png' ? 2 : 1), Buffer.from(image.data)]);
}

/** Type 4: `[4][len(json)][json][image]`. */
export function encodePreviewWithMetadata(image: PreviewImage, meta: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  return Buffer.concat([u32(BinaryEventType.PREVIEW_IMAGE_WITH_METADATA), u32(json.length), json, Buffer.from(image.data)]);
}

/** Type 3: `[3][len(node_id)][node_id][text]`. */
export function encodeProgressText(nodeId: string, text: string): Buffer {
  const id = Buffer.from(nodeId, 'utf8');
  return Buffer.concat([u32(BinaryEventType.TEXT), u32(id.length), id, Buffer.from(text, 'utf8')]);
}
