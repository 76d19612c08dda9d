import type { Connection } from '../transport/connection.js';
import type { CertificateVerdict, ConnectionCloseInfo, ConnectionEvent, PathAddress } from '../transport/events.js';
import type { QuicEndpoint } from './udp-endpoint.js';
import { nowMs } from './udp-endpoint.js';

/**
 * A connection living on a `QuicEndpoint`: the sans-IO `Connection` plus the glue that makes
 * every call take effect on the wire (the endpoint flushes it at the end of the turn) and
 * delivers the connection's events to one consumer, in order.
 */
export class EndpointConnection {
  /** @internal Client-chosen Initial DCID routed to this server connection until the handshake is confirmed. */
  initialDcid: Uint8Array | undefined;
  /** @internal */ pendingBurst = false;
  /** @internal Datagrams received since this connection last transmitted. */
  receivedSinceFlush = 0;
  private handler: ((e: ConnectionEvent) => void) | undefined;
  private readonly backlog: ConnectionEvent[] = [];
  private readonly waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private closedWaiters: Array<(info: ConnectionCloseInfo) => void> = [];
  private shutdownWaiters: Array<(info: ConnectionCloseInfo) => void> = [];
  /** Set once closing or draining began. */
  shutdownInfo: ConnectionCloseInfo | undefined;
  /** Set once the connection ended. */
  closeInfo: ConnectionCloseInfo | undefined;
  handshakeDone = false;

  constructor(
    /** The endpoint (socket) the connection lives on; changes when a client migrates (`QuicEndpoint.adopt`). */
    public endpoint: QuicEndpoint,
    readonly conn: Connection,
  ) {}

  /**
   * Sets the single consumer of this connection's events. Events that arrived before a
   * handler was set are delivered to it at once, in order.
   */
  setEventHandler(handler: ((e: ConnectionEvent) => void) | undefined): void {
    this.handler = handler;
    if (handler === undefined) return;
    while (this.backlog.length > 0 && this.handler === handler) handler(this.backlog.shift()!);
  }

  /** @internal */
  deliver(e: ConnectionEvent): void {
    if (e.type === 'handshakeCompleted') {
      this.handshakeDone = true;
      for (const w of this.waiters.splice(0)) w.resolve();
    } else if (e.type === 'shutdownInitiated') {
      this.shutdownInfo = e.info;
      for (const w of this.shutdownWaiters.splice(0)) w(e.info);
    } else if (e.type === 'closed') {
      if (this.shutdownInfo === undefined) {
        this.shutdownInfo = e.info;
        for (const w of this.shutdownWaiters.splice(0)) w(e.info);
      }
      this.closeInfo = e.info;
      const err = new Error(`connection closed: ${e.info.source} ${e.info.code} ${e.info.reason}`);
      for (const w of this.waiters.splice(0)) w.reject(err);
      for (const w of this.closedWaiters.splice(0)) w(e.info);
    }
    if (this.handler !== undefined) this.handler(e);
    else this.backlog.push(e);
  }

  /** Resolves when the handshake completes; rejects if the connection closes first. */
  handshake(): Promise<void> {
    if (this.handshakeDone) return Promise.resolve();
    if (this.closeInfo) return Promise.reject(new Error(`connection closed: ${this.closeInfo.reason}`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Resolves with the close information as soon as the connection starts closing or draining. */
  shutdown(): Promise<ConnectionCloseInfo> {
    if (this.shutdownInfo) return Promise.resolve(this.shutdownInfo);
    return new Promise((resolve) => this.shutdownWaiters.push(resolve));
  }

  /** Resolves with the close information once the connection is closed (after any draining period). */
  closed(): Promise<ConnectionCloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  /** The peer's current address. */
  get remoteAddress(): PathAddress {
    return this.conn.peerAddress;
  }

  /** The local socket address. */
  get localAddress(): PathAddress {
    return this.endpoint.address();
  }

  private touch(): void {
    this.endpoint.markDirty(this);
  }

  openStream(bidi = true): number | undefined {
    const id = this.conn.openStream(bidi);
    this.touch();
    return id;
  }

  write(streamId: number, data: Uint8Array, fin = false): void {
    this.conn.streamWrite(streamId, data, fin);
    this.touch();
  }

  read(streamId: number, max = Infinity): { data: Uint8Array; fin: boolean } | undefined {
    const r = this.conn.streamRead(streamId, max, nowMs());
    this.touch();
    return r;
  }

  /** Like `read` but never copies: a view of one received segment (read until it comes back empty). */
  readSegment(streamId: number, max = Infinity): { data: Uint8Array; fin: boolean } | undefined {
    const r = this.conn.streamReadSegment(streamId, max, nowMs());
    this.touch();
    return r;
  }

  resetStream(streamId: number, errorCode: bigint | number): void {
    this.conn.streamReset(streamId, errorCode);
    this.touch();
  }

  stopSending(streamId: number, errorCode: bigint | number): void {
    this.conn.streamStopSending(streamId, errorCode);
    this.touch();
  }

  sendDatagram(data: Uint8Array): boolean {
    const ok = this.conn.sendDatagram(data);
    this.touch();
    return ok;
  }

  /** Server: one more session ticket, carrying `applicationData` (see `Connection.sendSessionTicket`). */
  sendSessionTicket(applicationData: Uint8Array): boolean {
    const sent = this.conn.sendSessionTicket(applicationData, nowMs());
    this.touch();
    return sent;
  }

  completeCertificateVerification(verdict: CertificateVerdict): void {
    this.conn.completeCertificateVerification(verdict, nowMs());
    this.touch();
  }

  /** Closes the connection (application error by default). */
  close(errorCode: bigint | number = 0, reason = '', opts: { application?: boolean; silent?: boolean } = {}): void {
    this.conn.close(errorCode, reason, nowMs(), opts);
    this.touch();
  }

  /** Any other change made directly on `conn` (setopt-like calls): make the endpoint flush. */
  flush(): void {
    this.touch();
  }
}
