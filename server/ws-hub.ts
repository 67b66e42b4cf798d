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
  /** The authenticated user (or the self-asserted Comfy-User); null = unknown. */
  user: string | null;
  admin: boolean;
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
  /** Authentication of the upgrade request (absent: auth off). */
  authenticate?: (req: http.IncomingMessage) => { ok: true; identity: { user: string; role: string } } | { ok: false; reason: string };
  /** Answers a refused upgrade with the 401. */
  refuseUnauthenticated?: (socket: Duplex, reason: string) => void;
  /** `--multi-user`: a prompt's events reach only its owner's sockets (and admins'). */
  isolated?: boolean;
  /** Told of every upgrade on the WS paths: 101 accepted, else the refusal status (audit log). */
  onUpgrade?: (req: http.IncomingMessage, status: number, user: string | null) => void;
}

interface SocketIdentity {
  user: string | null;
  admin: boolean;
}

export const WS_PATHS = ['/ws', '/api/ws'];

export class WsHub implements ExecutionEventSink, WorkerMessenger {
  private readonly clients = new Map<string, Client>();
  // aiohttp's default max_msg_size: clients only send small JSON here.
  // A browser can only send a token as a subprotocol; the server must then pick one it offered.
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024, handleProtocols: pickProtocol });
  private runningClient: string | undefined;
  private runningOwner: string | undefined;
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
    const identity = this.identify(req, url);
    this.opts.onUpgrade?.(req, 'reason' in identity ? 401 : 101, 'reason' in identity ? null : identity.user);
    if ('reason' in identity) {
      if (this.opts.refuseUnauthenticated) this.opts.refuseUnauthenticated(socket, identity.reason);
      else socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, url.searchParams.get('clientId') ?? '', identity));
  }

  private identify(req: http.IncomingMessage, url: URL): SocketIdentity | { reason: string } {
    if (this.opts.authenticate) {
      const r = this.opts.authenticate(req);
      return r.ok ? { user: r.identity.user, admin: r.identity.role === 'admin' } : { reason: r.reason };
    }
    if (!this.opts.isolated) return { user: null, admin: true };
    const header = req.headers['comfy-user'];
    const claimed = typeof header === 'string' && header ? header : url.searchParams.get('user');
    return { user: claimed || null, admin: false };
  }

  private onConnection(socket: WebSocket, requestedSid: string, identity: SocketIdentity): void {
    // A known sid replaces the old socket (as ComfyUI does, the old one is dropped, not closed:
    // two tabs sharing an id must not knock each other off in a reconnect loop) — unless it
    // belongs to another user: then this socket gets a fresh sid instead of the other's events.
    const taken = requestedSid ? this.clients.get(requestedSid) : undefined;
    const stolen = taken !== undefined && this.opts.isolated && !identity.admin && taken.user !== identity.user;
    const sid = requestedSid && !stolen ? requestedSid : randomUUID().replace(/-/g, '');
    const client: Client = { socket, sid, user: identity.user, admin: identity.admin, featureFlags: {}, gotFirstMessage: false };
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

  /**
   * Targets: one sid (dropped silently if it has no socket) or, with sid undefined, everyone.
   * While a prompt runs under isolation, only its owner's sockets and admins' qualify (a socket
   * of unknown user only when addressed by its sid: the frontend's own client id).
   */
  private targets(sid: string | undefined): Client[] {
    const all = sid === undefined ? [...this.clients.values()] : [this.clients.get(sid)].filter((c): c is Client => c !== undefined);
    const owner = this.runningOwner;
    if (!this.opts.isolated || owner === undefined) return all;
    return all.filter((c) => c.admin || c.user === owner || (sid !== undefined && c.user === null));
  }

  send(type: string, data: Record<string, unknown>, sid?: string): void {
    if (type === 'executing') this.lastNodeId = (data['node'] as string | null | undefined) ?? null;
    const payload = JSON.stringify({ type, data });
    for (const c of this.targets(sid)) this.sendRaw(c, payload);
  }

  /** Queue size to every socket: not a prompt's event, so not filtered by owner. */
  broadcastStatus(): void {
    const payload = JSON.stringify({ type: 'status', data: { status: this.queueInfo() } });
    for (const c of this.clients.values()) this.sendRaw(c, payload);
  }

  setRunningOwner(owner: string | undefined): void {
    this.runningOwner = owner;
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

/** The first offered subprotocol that is not a token (else the token entry itself). */
function pickProtocol(protocols: Set<string>): string | false {
  const list = [...protocols];
  return list.find((p) => !p.startsWith('bearer.')) ?? list[0] ?? false;
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
