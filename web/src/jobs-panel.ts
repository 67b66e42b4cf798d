/**
 * Queue and history panels from `/api/jobs` (spec §1.4) with cancel, delete, clear and
 * "load this job's workflow".
 */
import { getJson, postJson, viewUrl, type JobWire } from './api.js';
import { isUiWorkflow, type ComfyApp } from './app.js';
import { button, showMessage } from './messages.js';

interface JobsResponse {
  jobs: JobWire[];
}

function describe(job: JobWire): string {
  const seconds = job.execution_end_time && job.execution_start_time ? ` · ${((job.execution_end_time - job.execution_start_time) / 1000).toFixed(1)}s` : '';
  return `#${job.priority ?? '?'} ${job.status.replace('_', ' ')}${seconds}`;
}

function jobRow(job: JobWire, actions: HTMLElement[]): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset['jobId'] = job.id;
  li.dataset['status'] = job.status;
  if (job.preview_output?.filename && job.preview_output.mediaType === 'images') {
    const img = document.createElement('img');
    img.src = viewUrl(job.preview_output);
    img.alt = job.preview_output.filename;
    li.append(img);
  }
  const info = document.createElement('span');
  info.className = `job-info status-${job.status}`;
  info.textContent = describe(job);
  info.title = job.id;
  li.append(info, ...actions);
  return li;
}

async function loadJobWorkflow(app: ComfyApp, id: string): Promise<void> {
  const job = await getJson<{ workflow?: { extra_data?: { extra_pnginfo?: { workflow?: unknown } } } }>(`/jobs/${encodeURIComponent(id)}`);
  const workflow = job.workflow?.extra_data?.extra_pnginfo?.workflow;
  if (isUiWorkflow(workflow)) app.loadWorkflow(workflow, null);
  else showMessage('That job has no UI workflow stored with it.', 'error');
}

export class JobsPanel {
  private pending: ReturnType<typeof setTimeout> | null = null;
  /** Counts refreshes started: only the newest one renders (see refresh). */
  private generation = 0;

  constructor(private readonly app: ComfyApp) {
    document.getElementById('btn-clear-queue')?.addEventListener('click', () => void this.act(() => postJson('/queue', { clear: true })));
    document.getElementById('btn-clear-history')?.addEventListener('click', () => void this.act(() => postJson('/history', { clear: true })));
  }

  /** Coalesces bursts of status messages into one refresh. */
  scheduleRefresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.refresh();
    }, 150);
  }

  private async act(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (err) {
      showMessage(String(err), 'error');
    }
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const mine = ++this.generation;
    try {
      const [queue, history] = await Promise.all([
        getJson<JobsResponse>('/jobs?status=in_progress,pending&sort_order=asc&limit=200&offset=0'),
        getJson<JobsResponse>('/jobs?status=completed,failed,cancelled&limit=100&offset=0'),
      ]);
      // Responses can arrive out of order: a refresh a status message started before a delete
      // must not paint its older lists over the ones fetched after it.
      if (mine !== this.generation) return;
      this.renderQueue(queue.jobs);
      this.renderHistory(history.jobs);
    } catch (err) {
      console.warn('comfy8: could not refresh the job lists:', err);
    }
  }

  private renderQueue(jobs: JobWire[]): void {
    const rows = jobs.map((job) =>
      jobRow(job, [button('Cancel', () => void this.act(() => postJson(`/jobs/${encodeURIComponent(job.id)}/cancel`, {})), 'job-cancel')]),
    );
    document.getElementById('queue-list')?.replaceChildren(...rows);
  }

  private renderHistory(jobs: JobWire[]): void {
    const rows = jobs.map((job) =>
      jobRow(job, [
        button('Load', () => void loadJobWorkflow(this.app, job.id).catch((err) => showMessage(String(err), 'error')), 'job-load'),
        button('Delete', () => void this.act(() => postJson('/history', { delete: [job.id] })), 'job-delete'),
      ]),
    );
    document.getElementById('history-list')?.replaceChildren(...rows);
  }
}
