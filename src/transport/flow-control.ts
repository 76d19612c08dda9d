import { QuicError, TransportError } from './errors.js';

/**
 * The receive side of flow control for one stream or for the whole connection
 * (RFC 9000 §4): checks the peer against the limit we advertised, and decides when to
 * advertise a larger one. The window auto-tunes: when the application consumes a window's
 * worth of data in less than two round trips, the window doubles (up to `maxWindow`), so a
 * single stream can fill a fast path without a huge static buffer.
 */
export class ReceiveCredit {
  /** The limit advertised to the peer (an absolute offset / byte count). */
  limit: number;
  /** Current window size. */
  window: number;
  /** Highest offset (stream) or total bytes (connection) the peer has sent. */
  received = 0;
  /** Bytes the application has consumed. */
  consumed = 0;
  private lastAdvance = -1;

  constructor(
    initialWindow: number,
    readonly maxWindow: number,
  ) {
    this.limit = initialWindow;
    this.window = initialWindow;
  }

  /**
   * The peer's data reaches `received` (grown by `increment` over the previous value).
   * Throws FLOW_CONTROL_ERROR past the advertised limit.
   */
  onReceived(increment: number, frameType?: number): void {
    const r = this.received + increment;
    if (r > this.limit) {
      throw new QuicError(TransportError.FLOW_CONTROL_ERROR, `peer sent ${r} bytes beyond the advertised limit ${this.limit}`, frameType);
    }
    this.received = r;
  }

  /** The application consumed `n` more bytes. */
  onConsumed(n: number): void {
    this.consumed += n;
  }

  /**
   * Returns the new limit to advertise (MAX_DATA / MAX_STREAM_DATA), or -1 when no update is
   * due yet. An update is due once a quarter of the window has been consumed: credit then
   * flows back in small steps instead of stop-and-go halves (a frame per quarter window is
   * cheap; a sender idling on credit is not).
   */
  nextLimit(now: number, smoothedRtt: number): number {
    if (this.limit - this.consumed > (this.window * 3) / 4) return -1;
    if (this.lastAdvance >= 0 && now - this.lastAdvance < 2 * smoothedRtt && this.window < this.maxWindow) {
      this.window = Math.min(this.window * 2, this.maxWindow);
    }
    this.lastAdvance = now;
    const next = this.consumed + this.window;
    if (next <= this.limit) return -1;
    this.limit = next;
    return next;
  }

  /** Grows the window to at least `w` (e.g. the connection window follows a stream's). */
  ensureWindow(w: number): void {
    if (w > this.window) this.window = Math.min(w, this.maxWindow);
  }
}

/**
 * The send side of flow control: the peer's limit and how much of it is used, and whether a
 * DATA_BLOCKED / STREAM_DATA_BLOCKED is owed (once per limit value).
 */
export class SendCredit {
  used = 0;
  private blockedReportedAt = -1;

  constructor(public limit: number) {}

  get available(): number {
    return this.limit > this.used ? this.limit - this.used : 0;
  }

  /** Applies a MAX_DATA / MAX_STREAM_DATA value; returns true when it raised the limit. */
  raise(newLimit: number): boolean {
    if (newLimit <= this.limit) return false;
    this.limit = newLimit;
    return true;
  }

  /** True when the sender is blocked at the current limit and has not said so yet. */
  get blockedUnreported(): boolean {
    return this.used >= this.limit && this.blockedReportedAt !== this.limit;
  }

  /** Records that a BLOCKED frame for the current limit was sent. */
  markBlockedReported(): void {
    this.blockedReportedAt = this.limit;
  }

  /** A BLOCKED frame was lost: report again if still blocked at the same limit. */
  onBlockedLost(limit: number): void {
    if (this.blockedReportedAt === limit) this.blockedReportedAt = -1;
  }
}
