import type { Connection } from './connection.js';
import { QuicError, TransportError, transportErrorName } from './errors.js';
import type { ConnectionCloseInfo } from './events.js';

/** Shortest wait of a server whose CONNECTION_CLOSE the peer answered (MsQuic's floor). */
const MIN_ACKED_DRAIN_MS = 15;

/**
 * How a connection ends and the timers that end it: the idle timeout (RFC 9000 §10.1, never
 * below 3×PTO), the handshake idle timeout, the disconnect timeout (data unacknowledged that
 * long: the path is dead), restarting from the initial congestion window after sending went
 * quiet (MsQuic's SendIdleTimeoutMs), and the closing and draining states (RFC 9000 §10.2).
 */
export class Lifecycle {
  /** When the connection was created (handshake idle timeout). */
  private readonly createdAt: number;
  /** First ack-eliciting packet sent after the last receive (RFC 9000 §10.1 idle rule). */
  private lastAckElicitingSendAfterReceive = -Infinity;
  /** Last ack-eliciting packet sent (send idle timeout). */
  private lastAckElicitingSend = -Infinity;
  /** When the closing or draining period ends. */
  closeDeadline = Infinity;
  private closedEmitted = false;
  private packetsInClosing = 0;
  /** Our CONNECTION_CLOSE was answered by the peer's (we moved from closing to draining). */
  peerAcknowledgedClose = false;

  constructor(
    private readonly c: Connection,
    now: number,
  ) {
    this.createdAt = now;
  }

  /** An ack-eliciting packet is about to be built at `now` (restart after send idleness). */
  beforeAckElicitingSend(now: number): void {
    const c = this.c;
    const idle = c.settings.sendIdleTimeout;
    if (idle > 0 && now - this.lastAckElicitingSend >= idle && c.recovery.bytesInFlight === 0 && c.handshakeConfirmed) {
      // After a quiet period the old window says nothing about the path: start over (RFC 9002 §7.8, RFC 7661).
      c.resetCongestionState();
    }
  }

  /** An ack-eliciting packet went out. */
  onAckElicitingSent(now: number): void {
    this.lastAckElicitingSend = now;
    if (this.lastAckElicitingSendAfterReceive <= this.c.lastReceive) this.lastAckElicitingSendAfterReceive = now;
  }

  /** Earliest of the lifecycle timers. */
  deadline(): number {
    const c = this.c;
    if (c.state === 'closing' || c.state === 'draining') return this.closeDeadline;
    let t = this.idleDeadline();
    const d = this.disconnectDeadline();
    if (d < t) t = d;
    return t;
  }

  private idleDeadline(): number {
    const c = this.c;
    let t = Infinity;
    if (!c.handshakeComplete && c.settings.handshakeIdleTimeout > 0) t = this.createdAt + c.settings.handshakeIdleTimeout;
    if (c.idleTimeout > 0) {
      const last = Math.max(c.lastReceive, this.lastAckElicitingSendAfterReceive);
      const idle = last + Math.max(c.idleTimeout, 3 * c.recovery.ptoDuration());
      if (idle < t) t = idle;
    }
    return t;
  }

  /** Ack-eliciting data outstanding and nothing acknowledged for the disconnect timeout. */
  private disconnectDeadline(): number {
    const c = this.c;
    const ms = c.settings.disconnectTimeout;
    if (ms <= 0 || !c.recovery.hasAckElicitingInFlight) return Infinity;
    return c.recovery.progressTime + ms;
  }

  /** Runs the lifecycle timers; true when the connection ended (nothing else should run). */
  onTimeout(now: number): boolean {
    const c = this.c;
    if (now >= this.closeDeadline) {
      this.enterClosed();
      return true;
    }
    if (c.state === 'closing' || c.state === 'draining') return true;
    if (now >= this.idleDeadline()) {
      const handshake = !c.handshakeComplete && c.settings.handshakeIdleTimeout > 0 && now >= this.createdAt + c.settings.handshakeIdleTimeout;
      this.silentClose({
        source: handshake ? 'handshake-timeout' : 'idle-timeout',
        code: BigInt(TransportError.NO_ERROR),
        frameType: 0,
        reason: handshake ? 'handshake did not complete in time' : 'idle timeout',
      });
      return true;
    }
    if (now >= this.disconnectDeadline()) {
      this.silentClose({
        source: 'disconnect-timeout',
        code: BigInt(TransportError.NO_ERROR),
        frameType: 0,
        reason: `no acknowledgment for ${c.settings.disconnectTimeout} ms: the path is dead`,
      });
      return true;
    }
    return false;
  }

  /** A datagram arrived while closing: answer with CONNECTION_CLOSE, at a decreasing rate (RFC 9000 §10.2.1). */
  onDatagramWhileClosing(): void {
    this.packetsInClosing++;
    if ((this.packetsInClosing & (this.packetsInClosing - 1)) === 0) this.c.closeFrameOwed = true;
  }

  /** Ends the connection without telling the peer (timeouts, resets, SILENT close). */
  silentClose(info: ConnectionCloseInfo): void {
    const c = this.c;
    c.closeInfo = info;
    c.emit({ type: 'shutdownInitiated', info });
    this.enterClosed();
  }

  /** Ends the connection because of an error raised while processing. */
  failWith(e: unknown, now: number): void {
    const c = this.c;
    if (c.state === 'closed' || c.state === 'draining' || c.state === 'closing') return;
    const q =
      e instanceof QuicError
        ? e
        : new QuicError(TransportError.INTERNAL_ERROR, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    c.traceEvent('connection_error', { code: transportErrorName(q.code), reason: q.reason, stack: e instanceof Error && !(e instanceof QuicError) ? e.stack : undefined });
    this.enterClosing({ source: 'transport', code: BigInt(q.code), frameType: q.frameType ?? 0, reason: q.reason }, now);
  }

  /** Sends CONNECTION_CLOSE and waits out the closing period (3×PTO). */
  enterClosing(info: ConnectionCloseInfo, now: number): void {
    const c = this.c;
    c.closeInfo = info;
    c.state = 'closing';
    c.closeFrameOwed = true;
    this.closeDeadline = now + 3 * c.recovery.ptoDuration();
    c.emit({ type: 'shutdownInitiated', info });
  }

  /** The peer closed (RFC 9000 §10.2.2). */
  enterDraining(info: ConnectionCloseInfo, now: number): void {
    const c = this.c;
    if (c.state === 'closing') {
      // Our CONNECTION_CLOSE was answered: the peer acknowledged the shutdown and is closing too,
      // so nothing it sends later needs an answer. As MsQuic does, a client is done at once (its
      // late packets meet a peer that ignores everything); a server lingers max(15 ms, 2×SRTT)
      // to absorb packets still on the way instead of treating them as unknown.
      this.peerAcknowledgedClose = true;
      c.state = 'draining';
      c.closeFrameOwed = false;
      // (The end is a deadline, even when it is now: the packet being processed finishes first.)
      const end = c.role === 'client' ? now : now + Math.max(MIN_ACKED_DRAIN_MS, 2 * c.rtt.smoothedRtt);
      if (end < this.closeDeadline) this.closeDeadline = end;
      return;
    }
    c.closeInfo = info;
    c.state = 'draining';
    c.emit({ type: 'shutdownInitiated', info });
    if (c.role === 'client' && !c.handshakeComplete) {
      // The server refused the connection attempt: there is no established state to drain
      // (MsQuic closes such a client at once, without answering).
      c.closeFrameOwed = false;
      this.closeDeadline = now;
      return;
    }
    c.closeFrameOwed = true; // one CONNECTION_CLOSE in answer (RFC 9000 §10.2.2 allows it): the peer learns we heard it
    this.closeDeadline = now + 3 * c.recovery.ptoDuration();
  }

  /** The connection is finished (no CONNECTION_CLOSE, or the closing/draining period ended). */
  enterClosed(): void {
    const c = this.c;
    if (c.state === 'closed') return;
    c.state = 'closed';
    const info = c.closeInfo ?? { source: 'application' as const, code: 0n, frameType: 0, reason: '' };
    if (c.trace !== undefined) {
      const remote = info.source.startsWith('peer-') || info.source === 'stateless-reset';
      const app = info.source === 'application' || info.source === 'peer-application';
      c.traceEvent('connection_closed', { owner: remote ? 'remote' : 'local', [app ? 'application_code' : 'connection_code']: info.code, reason: info.reason, trigger: info.source });
    }
    this.closeDeadline = Infinity;
    c.localCids.retireAll();
    for (const cid of c.localCids.retired) c.emit({ type: 'connectionIdRetired', cid });
    c.localCids.retired.length = 0;
    if (!this.closedEmitted) {
      this.closedEmitted = true;
      c.emit({ type: 'closed', info });
    }
  }
}
