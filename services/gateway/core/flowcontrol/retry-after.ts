/**
 * The Retry-After of a priority level's rejections, as kube's dropped-requests tracker
 * (k8s.io/apiserver pkg/util/flowcontrol dropped_requests_tracker.go): it starts at 1 s, doubles
 * (up to 32 s) when, over the last Retry-After seconds, at least three times that many requests
 * were dropped, and comes down a second at a time when fewer than that many were. Counted in
 * whole seconds of the clock, as kube counts them.
 */
const MAX_RETRY_AFTER = 32;

export class RetryAfter {
  private readonly now: () => number;
  /** Drops per whole second before the current one, oldest first. */
  private history: { second: number; count: number }[] = [];
  private currentSecond = -1;
  private currentCount = 0;
  private retryAfter = 1;
  private updatedAt = 0;

  /** `now` in milliseconds (default: the wall clock). */
  constructor(now: () => number = () => Date.now()) {
    this.now = now;
  }

  /** Records a dropped request and returns the Retry-After (seconds) to send with it. */
  dropped(): number {
    const second = Math.floor(this.now() / 1000);
    if (second === this.currentSecond) {
      this.currentCount++;
      return this.retryAfter;
    }
    if (this.currentSecond >= 0) this.history.push({ second: this.currentSecond, count: this.currentCount });
    const keep = Math.min(2 * this.retryAfter, MAX_RETRY_AFTER);
    this.history = this.history.filter((h) => second - h.second <= keep);
    this.currentSecond = second;
    this.currentCount = 1;
    this.update(second);
    return this.retryAfter;
  }

  private update(second: number): void {
    let dropped = 0;
    for (const h of this.history) if (second - h.second <= this.retryAfter && h.second < second) dropped += h.count;
    if (second - this.updatedAt >= this.retryAfter && dropped >= 3 * this.retryAfter) {
      this.retryAfter = Math.min(this.retryAfter * 2, MAX_RETRY_AFTER);
      this.updatedAt = second;
      return;
    }
    if (dropped < this.retryAfter && this.retryAfter > 1) this.retryAfter--;
  }
}
