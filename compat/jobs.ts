/**
 * The jobs API view of queue items and history entries (spec §1.4, ComfyUI's
 * comfy_execution/jobs.py): status mapping, output counts, the preview pick, sorting.
 */
import type { HistoryEntry, QueueItem } from './api-types.js';

export const JOB_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

const PREVIEWABLE_MEDIA = new Set(['images', 'video', 'audio', '3d', 'text']);
const THREE_D_EXT = ['.obj', '.fbx', '.gltf', '.glb', '.usdz'];
const TEXT_EXT = ['.txt', '.md', '.json'];
const TEXT_PREVIEW_MAX = 1024;

export type Job = Record<string, unknown>;
type Item = Record<string, unknown>;

const endsWithAny = (name: string, exts: string[]) => exts.some((e) => name.toLowerCase().endsWith(e));

/** Drops keys whose value is null/undefined (ComfyUI's prune_dict). */
function prune(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== undefined));
}

function jobMetadata(extraData: Record<string, unknown>): { createTime: unknown; workflowId: unknown } {
  const pnginfo = (extraData['extra_pnginfo'] ?? {}) as Record<string, unknown>;
  const workflow = (pnginfo?.['workflow'] ?? {}) as Record<string, unknown>;
  return { createTime: extraData['create_time'], workflowId: workflow?.['id'] };
}

/** A string 3D filename becomes a file item; other non-dict items are not items. */
export function normalizeOutputItem(item: unknown): Item | null {
  if (typeof item === 'string') return endsWithAny(item, THREE_D_EXT) ? { filename: item, type: 'output', subfolder: '', mediaType: '3d' } : null;
  return item && typeof item === 'object' && !Array.isArray(item) ? (item as Item) : null;
}

export function normalizeOutputs(outputs: HistoryEntry['outputs']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [nodeId, nodeOutputs] of Object.entries(outputs)) {
    if (!nodeOutputs || typeof nodeOutputs !== 'object') {
      out[nodeId] = nodeOutputs;
      continue;
    }
    const node: Record<string, unknown> = {};
    for (const [media, items] of Object.entries(nodeOutputs)) {
      node[media] = media === 'animated' || !Array.isArray(items) ? items : items.filter((i) => i != null).map((i) => normalizeOutputItem(i) ?? i);
    }
    out[nodeId] = node;
  }
  return out;
}

function isPreviewable(media: string, item: Item): boolean {
  if (PREVIEWABLE_MEDIA.has(media)) return true;
  const fmt = typeof item['format'] === 'string' ? item['format'] : '';
  if (fmt.startsWith('video/') || fmt.startsWith('audio/')) return true;
  const filename = typeof item['filename'] === 'string' ? item['filename'] : '';
  return endsWithAny(filename, THREE_D_EXT) || endsWithAny(filename, TEXT_EXT);
}

function isTextPreview(media: string, item: Item): boolean {
  return media === 'text' || endsWithAny(typeof item['filename'] === 'string' ? item['filename'] : '', TEXT_EXT);
}

function textPreview(value: string): Item {
  return value.length <= TEXT_PREVIEW_MAX ? { content: value } : { content: value.slice(0, TEXT_PREVIEW_MAX), truncated: true };
}

/** outputs_count, previewable_outputs_count and the preview pick in ComfyUI's priority order. */
export function outputsSummary(outputs: HistoryEntry['outputs']): { count: number; previewable: number; preview: Item | null } {
  let count = 0;
  let previewable = 0;
  const picks: { output?: Item; media?: Item; textFile?: Item; text?: Item } = {};
  for (const [nodeId, nodeOutputs] of Object.entries(outputs)) {
    if (!nodeOutputs || typeof nodeOutputs !== 'object') continue;
    for (const [media, items] of Object.entries(nodeOutputs)) {
      if (media === 'animated' || !Array.isArray(items)) continue;
      for (const raw of items) {
        const item = normalizeOutputItem(raw);
        if (!item) {
          if (media === 'text' && raw != null) picks.text ??= { ...textPreview(Array.isArray(raw) ? String(raw[0] ?? '') : String(raw)), nodeId, mediaType: media };
          continue;
        }
        count++;
        if (!isPreviewable(media, item)) continue;
        previewable++;
        const enriched = { ...item, nodeId, ...('mediaType' in item ? {} : { mediaType: media }) };
        if (isTextPreview(media, item)) picks.textFile ??= enriched;
        else if (item['type'] === 'output') picks.output ??= enriched;
        else picks.media ??= enriched;
      }
    }
  }
  return { count, previewable, preview: picks.output ?? picks.media ?? picks.textFile ?? picks.text ?? null };
}

export function jobFromQueueItem(item: QueueItem, status: 'pending' | 'in_progress', includeWorkflow = false): Job {
  const [priority, id, prompt, extraData] = item;
  const { createTime, workflowId } = jobMetadata(extraData);
  const job = prune({ id, status, priority, create_time: createTime, outputs_count: 0, previewable_outputs_count: 0, workflow_id: workflowId });
  if (includeWorkflow) job['workflow'] = { prompt, extra_data: extraData };
  return job;
}

function lifecycle(entry: HistoryEntry): { start: unknown; end: unknown; error: unknown; interrupted: boolean } {
  const out = { start: undefined as unknown, end: undefined as unknown, error: undefined as unknown, interrupted: false };
  for (const m of entry.status?.messages ?? []) {
    if (!Array.isArray(m) || m.length < 2 || !m[1] || typeof m[1] !== 'object') continue;
    const [name, data] = m;
    if (name === 'execution_start') out.start = data['timestamp'];
    else if (name === 'execution_success' || name === 'execution_error' || name === 'execution_interrupted') {
      out.end = data['timestamp'];
      if (name === 'execution_error') out.error = data;
      if (name === 'execution_interrupted') out.interrupted = true;
    }
  }
  return out;
}

export function jobFromHistory(promptId: string, entry: HistoryEntry, includeOutputs = false): Job {
  const [priority, , prompt, extraData] = entry.prompt;
  const { createTime, workflowId } = jobMetadata(extraData);
  const life = lifecycle(entry);
  const statusStr = entry.status?.status_str;
  const status: JobStatus = statusStr === 'error' ? (life.interrupted ? 'cancelled' : 'failed') : 'completed';
  const summary = outputsSummary(entry.outputs ?? {});
  const job = prune({
    id: promptId, status, priority, create_time: createTime, execution_start_time: life.start, execution_end_time: life.end,
    execution_error: life.error, outputs_count: summary.count, previewable_outputs_count: summary.previewable,
    preview_output: summary.preview, workflow_id: workflowId,
  });
  if (includeOutputs) {
    job['outputs'] = normalizeOutputs(entry.outputs ?? {});
    job['execution_status'] = entry.status;
    job['workflow'] = { prompt, extra_data: extraData };
  }
  return job;
}

export function sortJobs(jobs: Job[], sortBy: 'created_at' | 'execution_duration', order: 'asc' | 'desc'): Job[] {
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const key =
    sortBy === 'execution_duration'
      ? (j: Job) => (num(j['execution_end_time']) && num(j['execution_start_time']) ? num(j['execution_end_time']) - num(j['execution_start_time']) : 0)
      : (j: Job) => num(j['create_time']);
  // A stable sort; 'desc' compares reversed so equal keys keep their order (as Python's reverse=True).
  return jobs.slice().sort((a, b) => (order === 'desc' ? key(b) - key(a) : key(a) - key(b)));
}
