/**
 * Per-user limits on `POST /prompt`: a sliding one-minute window of accepted prompts, and a cap
 * on pending prompts. Both answer ComfyUI's prompt-error shape with status 429.
 */
import { ERRORS, HttpError } from '../compat/errors.js';

const WINDOW_MS = 60_000;

export class PromptRateLimiter {
  private readonly accepted = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly maxQueued: number,
  ) {}

  /** Throws a 429 HttpError if `user` may not queue another prompt now. */
  check(user: string, pendingOfUser: number, now = Date.now()): void {
    if (this.maxQueued > 0 && pendingOfUser >= this.maxQueued) {
      throw new HttpError(ERRORS.QUEUE_CAP_REACHED, { vars: { limit: String(this.maxQueued) } });
    }
    if (this.perMinute <= 0) return;
    const recent = (this.accepted.get(user) ?? []).filter((t) => now - t < WINDOW_MS);
    this.accepted.set(user, recent);
    if (recent.length >= this.perMinute) {
      const retry = Math.ceil((WINDOW_MS - (now - recent[0]!)) / 1000);
      throw new HttpError(ERRORS.RATE_LIMITED, { vars: { limit: String(this.perMinute) }, extraInfo: { retry_after_seconds: retry } });
    }
  }

  /** Counts an accepted prompt. */
  accept(user: string, now = Date.now()): void {
    if (this.perMinute <= 0) return;
    const list = this.accepted.get(user) ?? [];
    list.push(now);
    this.accepted.set(user, list);
  }
}
