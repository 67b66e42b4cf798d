/**
 * The browser's side of ComfyUI's HTTP/WebSocket API (spec §1, §2): small typed fetch helpers and
 * a reconnecting socket that turns text frames into events and binary frames into preview blobs.
 */

export interface NodeDefWire {
  input: { required?: Record<string, InputSpecWire>; optional?: Record<string, InputSpecWire>; hidden?: Record<string, unknown> };
  input_order?: { required?: string[]; optional?: string[] };
  output: (string | string[])[];
  output_is_list?: boolean[];
  output_name?: string[];
  name: string;
  display_name?: string;
  description?: string;
  category?: string;
  output_node?: boolean;
  search_aliases?: string[];
  deprecated?: boolean;
}

export type InputSpecWire = [string | string[]] | [string | string[], Record<string, unknown>];
export type ObjectInfo = Record<string, NodeDefWire>;

export interface QueueResponse {
  prompt_id?: string;
  number?: number;
  node_errors?: Record<string, NodeError>;
  error?: { type?: string; message?: string; details?: string } | string;
}

export interface NodeError {
  errors: { type: string; message: string; details: string; extra_info?: { input_name?: string } }[];
  class_type?: string;
}

export interface JobWire {
  id: string;
  status: 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';
  priority?: number;
  create_time?: number;
  execution_start_time?: number;
  execution_end_time?: number;
  preview_output?: ImageRef & { nodeId?: string; mediaType?: string };
  outputs_count?: number;
}

export interface ImageRef {
  filename: string;
  subfolder?: string;
  type?: string;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: unknown, message: string) {
    super(message);
  }
}

/** Routes are called with the `/api` prefix, as the official frontend does. */
export function apiUrl(route: string): string {
  return `/api${route}`;
}

export async function getJson<T>(route: string): Promise<T> {
  const res = await fetch(apiUrl(route), { cache: 'no-store' });
  const body = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, body, `GET ${route} failed with ${res.status}`);
  return body as T;
}

export async function postJson<T>(route: string, payload: unknown): Promise<T> {
  const res = await fetch(apiUrl(route), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });
  const body = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, body, `POST ${route} failed with ${res.status}`);
  return body as T;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `/view` URL of a saved, temp or input image; `rand` defeats the image cache for reused names. */
export function viewUrl(image: ImageRef): string {
  const q = new URLSearchParams({ filename: image.filename, type: image.type ?? 'output', subfolder: image.subfolder ?? '', rand: String(Math.random()) });
  return apiUrl(`/view?${q}`);
}

export function userdataUrl(file: string): string {
  return apiUrl(`/userdata/${encodeURIComponent(file)}`);
}

export async function uploadImage(file: File): Promise<ImageRef & { name: string }> {
  const form = new FormData();
  form.append('image', file, file.name);
  form.append('type', 'input');
  const res = await fetch(apiUrl('/upload/image'), { method: 'POST', body: form });
  const body = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, body, `upload of ${file.name} failed with ${res.status}`);
  return body as ImageRef & { name: string };
}

export interface SocketMessage {
  type: string;
  data: Record<string, unknown>;
}

export interface PreviewFrame {
  blob: Blob;
  /** Set for type-4 frames (with metadata); type-1 frames belong to the running node. */
  nodeId?: string;
}

export interface SocketHandlers {
  onMessage(msg: SocketMessage): void;
  onPreview(frame: PreviewFrame): void;
  onOpen(): void;
  onClose(): void;
}

/** Parses binary frames: type 1 `[1][format][bytes]`, type 4 `[4][len][json][bytes]` (spec §2.5). */
export function parsePreviewFrame(buf: ArrayBuffer): PreviewFrame | null {
  const view = new DataView(buf);
  const kind = view.getUint32(0);
  if (kind === 1) {
    const mime = view.getUint32(4) === 2 ? 'image/png' : 'image/jpeg';
    return { blob: new Blob([buf.slice(8)], { type: mime }) };
  }
  if (kind === 4) {
    const len = view.getUint32(4);
    const meta = JSON.parse(new TextDecoder().decode(buf.slice(8, 8 + len))) as { display_node_id?: string; node_id?: string; image_type?: string };
    return { blob: new Blob([buf.slice(8 + len)], { type: meta.image_type ?? 'image/jpeg' }), nodeId: meta.display_node_id ?? meta.node_id };
  }
  return null;
}

/** One WebSocket with reconnect; adopts the session id the server announces (spec §2.1). */
export class ComfySocket {
  clientId: string;
  private socket: WebSocket | null = null;
  private closedByUser = false;

  constructor(private readonly handlers: SocketHandlers) {
    // A fresh id per page: a stored one would be shared by duplicated tabs, and the server closes
    // the older socket of an id, so two tabs would keep knocking each other off.
    this.clientId = crypto.randomUUID().replace(/-/g, '');
  }

  connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws?clientId=${encodeURIComponent(this.clientId)}`);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      this.handlers.onOpen();
    });
    ws.addEventListener('message', (ev) => this.dispatch(ev.data as string | ArrayBuffer));
    ws.addEventListener('close', () => {
      this.handlers.onClose();
      if (!this.closedByUser) setTimeout(() => this.connect(), 1000);
    });
  }

  close(): void {
    this.closedByUser = true;
    this.socket?.close();
  }

  private dispatch(data: string | ArrayBuffer): void {
    if (typeof data !== 'string') {
      const frame = parsePreviewFrame(data);
      if (frame) this.handlers.onPreview(frame);
      return;
    }
    const msg = JSON.parse(data) as SocketMessage;
    const sid = msg.type === 'status' ? (msg.data['sid'] as string | undefined) : undefined;
    if (sid) this.clientId = sid;
    this.handlers.onMessage(msg);
  }
}
