/**
 * Transfer progress while a download runs: on a TTY one line rewritten in place (bytes,
 * percent when the size is known, MB/s), otherwise one line per second.
 */
import { megabytes, type TextOut } from './output.js';

export class ProgressDisplay {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  private drawn = false;

  /**
   * `bytes` is polled for the current count; `total` is the expected size when known.
   * `intervalMs` defaults to 200 ms on a TTY and 1 s otherwise.
   */
  constructor(
    private readonly out: TextOut,
    private readonly bytes: () => number,
    private readonly total: number | undefined,
    private readonly intervalMs = out.isTTY ? 200 : 1000,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops, clearing the in-place line on a TTY so the final line starts clean. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.out.isTTY && this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }

  /** The current progress text. */
  text(): string {
    const b = this.bytes();
    const secs = (performance.now() - this.started) / 1000;
    const rate = secs > 0 ? b / secs / 1e6 : 0;
    const pct = this.total !== undefined && this.total > 0 ? ` (${((100 * b) / this.total).toFixed(1)}%)` : '';
    const of = this.total !== undefined ? ` of ${megabytes(this.total)}` : '';
    return `progress: ${megabytes(b)}${of} MB${pct}, ${rate.toFixed(2)} MB/s`;
  }

  private draw(): void {
    if (this.out.isTTY) {
      this.out.write(`\r${this.text()}\x1b[K`);
      this.drawn = true;
    } else {
      this.out.write(`${this.text()}\n`);
    }
  }
}
