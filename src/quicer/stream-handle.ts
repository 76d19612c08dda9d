/**
 * The stream handle of the quicer layer (quicer's `stream_handle()`): one QUIC stream, owned
 * by a process that receives its data and events as quicer messages. Receive modes follow
 * quicer (QUICER.md §3e): active (`true`: every chunk as `['quic', Bin, S, Props]`), passive
 * (`false`: the owner pulls with `recv`), `'once'`, or a message count N (then `passive`).
 */
import type { ActiveMode, StreamOptions } from './options.js';
import type { Process, ExitReason } from './process.js';
import type { QuicConn } from './conn-handle.js';

/** Receive flags in data props (QUICER.md §3f). */
export const RecvFlag = { NONE: 0, ZERO_RTT: 1, FIN: 2 } as const;
/** Stream start flags. */
export const StreamStartFlag = { NONE: 0, IMMEDIATE: 1, FAIL_BLOCKED: 2, SHUTDOWN_ON_FAIL: 4, INDICATE_PEER_ACCEPT: 8, PRIORITY_WORK: 16 } as const;
/** Stream open flags. */
export const StreamOpenFlag = { NONE: 0, UNIDIRECTIONAL: 1, ZERO_RTT: 2 } as const;
/** Stream shutdown flags. */
export const StreamShutdownFlag = { NONE: 0, GRACEFUL: 1, ABORT_SEND: 2, ABORT_RECEIVE: 4, ABORT: 6, IMMEDIATE: 8 } as const;
/** quicer's send flags: FIN, and the quicer-only SYNC bit (4096). */
export const SendFlag = { NONE: 0, ALLOW_0_RTT: 0x1, START: 0x2, FIN: 0x4, DGRAM_PRIORITY: 0x8, DELAY_SEND: 0x10, SYNC: 0x1000 } as const;
/** Stream event mask bit: deliver start_completed. */
export const StreamEventMask = { START_COMPLETE: 0x1 } as const;

/** Props of `['quic', Bin, S, Props]` data messages. */
export interface RecvDataProps {
  absolute_offset: number;
  len: number;
  flags: number;
}

/** A waiting `recv(S, Len)` in passive mode. */
interface RecvWaiter {
  len: number;
  resolve: (v: readonly ['ok', Uint8Array] | readonly ['error', string]) => void;
}

export class QuicStrm {
  readonly kind = 'stream' as const;
  /** The stream ID; undefined while a local stream waits for the peer's stream credit. */
  id: number | undefined;
  owner: Process;
  private removeOwnerHook: () => void;
  active: ActiveMode;
  readonly bidi: boolean;
  /** Absolute offset of the next byte delivered to the owner. */
  private delivered = 0;
  private peerShutdownSent = false;
  private finReached = false;
  private closedSent = false;
  private sendShutdownSent = false;
  private readonly waiters: RecvWaiter[] = [];
  /** The peer accepted this stream (it had stream credit when it started). */
  peerAccepted = false;
  /** Set when this side aborted sending (RESET_STREAM) or finished (FIN). */
  sendClosed = false;
  /** Closed locally with an abort; error code given. */
  abortCode: bigint | undefined;
  /** Application bytes queued by `send` (for statistics and tests). */
  bytesQueued = 0;
  /** Called by `recv` / `setActive` users waiting for writable credit. */
  private writableWaiters: Array<() => void> = [];

  constructor(
    readonly conn: QuicConn,
    owner: Process,
    readonly opts: StreamOptions,
    id: number | undefined,
    readonly local: boolean,
    bidi?: boolean,
  ) {
    this.owner = owner;
    this.id = id;
    this.active = opts.active;
    this.bidi = bidi ?? (id === undefined ? (opts.openFlag & StreamOpenFlag.UNIDIRECTIONAL) === 0 : (id & 2) === 0);
    this.removeOwnerHook = owner.onExitHook((r) => this.ownerDown(r));
  }

  /** Sends an event or data message to the owner. */
  private post(msg: unknown): void {
    this.owner.send(msg);
  }

  /** Starts a queued local stream once the peer allows it; false while still blocked. */
  tryStart(): boolean {
    if (this.id !== undefined) return true;
    const c = this.conn.ec?.conn;
    if (c === undefined) return false;
    const id = c.openStream(this.bidi);
    if (id === undefined) return false;
    this.id = id;
    this.peerAccepted = true;
    if (this.opts.priority !== undefined) c.streamSetPriority(id, this.opts.priority);
    if (this.opts.startFlag & StreamStartFlag.INDICATE_PEER_ACCEPT) this.post(['quic', 'peer_accepted', this, undefined]);
    this.flushPendingWrites();
    return true;
  }

  /** Writes queued while the stream waited for credit. */
  pendingWrites: Array<{ data: Uint8Array; fin: boolean }> = [];

  private flushPendingWrites(): void {
    const ec = this.conn.ec;
    if (ec === undefined || this.id === undefined) return;
    for (const w of this.pendingWrites.splice(0)) ec.write(this.id, w.data, w.fin);
  }

  // ---------------------------------------------------------------------------------------
  // Receiving

  /** The transport says data (or the FIN) can be read. */
  onReadable(): void {
    if (this.active === false || (typeof this.active === 'number' && this.active <= 0)) {
      this.serveWaiters();
      return;
    }
    this.deliverActive();
  }

  private deliverActive(): void {
    const ec = this.conn.ec;
    if (ec === undefined || this.id === undefined) return;
    while (this.active === true || this.active === 'once' || (typeof this.active === 'number' && this.active > 0)) {
      const r = ec.read(this.id);
      if (r === undefined) return;
      if (r.data.length === 0 && (!r.fin || this.finReached)) return;
      const offset = this.delivered;
      this.delivered += r.data.length;
      if (r.fin) this.finReached = true;
      const flags = r.fin ? RecvFlag.FIN : RecvFlag.NONE;
      this.post(['quic', r.data, this, { absolute_offset: offset, len: r.data.length, flags } satisfies RecvDataProps]);
      if (this.active === 'once') this.active = false;
      else if (typeof this.active === 'number') {
        this.active--;
        if (this.active === 0) {
          this.active = false;
          this.post(['quic', 'passive', this, undefined]);
        }
      }
      if (r.fin) {
        this.peerSendShutdown();
        return;
      }
    }
  }

  private peerSendShutdown(): void {
    if (this.peerShutdownSent) return;
    this.peerShutdownSent = true;
    this.post(['quic', 'peer_send_shutdown', this, undefined]);
  }

  /**
   * Passive receive (quicer:recv/2): `len` bytes exactly, or with `len` 0 whatever is
   * available (at least one byte). Resolves `['error', 'einval']` on an active stream,
   * `['error', 'closed']` once the stream or connection is gone, and the available bytes
   * when the peer finished before `len` were available (shorter read).
   */
  recv(len: number): Promise<readonly ['ok', Uint8Array] | readonly ['error', string]> {
    if (this.active !== false && !(typeof this.active === 'number' && this.active <= 0)) return Promise.resolve(['error', 'einval'] as const);
    return new Promise((resolve) => {
      this.waiters.push({ len, resolve });
      this.serveWaiters();
    });
  }

  private serveWaiters(): void {
    const ec = this.conn.ec;
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      if (ec === undefined || this.id === undefined) {
        if (this.conn.closed) {
          this.waiters.shift();
          w.resolve(['error', 'closed']);
          continue;
        }
        return;
      }
      const avail = ec.conn.streamReadable(this.id);
      const finish = this.peerFinishedAll();
      const want = w.len === 0 ? Math.max(1, avail) : w.len;
      if (avail < want && !finish && !this.conn.closed) return;
      const r = ec.read(this.id, w.len === 0 ? Infinity : w.len);
      this.waiters.shift();
      if (r === undefined) {
        w.resolve(['error', 'closed']);
        continue;
      }
      this.delivered += r.data.length;
      if (r.fin) this.finReached = true;
      w.resolve(['ok', r.data]);
      if (r.fin) this.peerSendShutdown();
    }
  }

  /** Everything the peer will send has arrived (FIN received). */
  private peerFinishedAll(): boolean {
    const ec = this.conn.ec;
    if (ec === undefined || this.id === undefined) return true;
    const s = ec.conn.streams.get(this.id);
    return s === undefined || s.recv === undefined || s.recv.isComplete || s.recv.finalSize >= 0;
  }

  /** Sets the receive mode (quicer's setopt(S, active, Mode)); a positive count adds to the current one. */
  setActive(mode: ActiveMode): void {
    if (typeof mode === 'number' && typeof this.active === 'number') this.active += mode;
    else this.active = mode;
    if (typeof this.active === 'number' && this.active <= 0) {
      this.active = false;
      this.post(['quic', 'passive', this, undefined]);
    }
    this.onReadable();
  }

  // ---------------------------------------------------------------------------------------
  // Events from the transport

  onPeerSendAborted(code: bigint): void {
    this.post(['quic', 'peer_send_aborted', this, code]);
    for (const w of this.waiters.splice(0)) w.resolve(['error', 'peer_send_aborted']);
  }

  onPeerReceiveAborted(code: bigint): void {
    this.post(['quic', 'peer_receive_aborted', this, code]);
  }

  onSendShutdownComplete(graceful: boolean): void {
    if (this.sendShutdownSent) return;
    this.sendShutdownSent = true;
    this.post(['quic', 'send_shutdown_complete', this, graceful]);
  }

  onWritable(): void {
    for (const w of this.writableWaiters.splice(0)) w();
  }

  /** Both directions finished (or the connection ended: `connShutdown`). */
  onClosed(connShutdown: boolean): void {
    if (this.closedSent) return;
    this.closedSent = true;
    this.closedFlag = true;
    for (const w of this.ackWaiters.splice(0)) w.resolve(true);
    for (const w of this.closeWaiters.splice(0)) w();
    for (const w of this.waiters.splice(0)) w.resolve(['error', 'closed']);
    this.post([
      'quic',
      'stream_closed',
      this,
      {
        is_conn_shutdown: connShutdown,
        is_app_closing: this.conn.appClosing,
        is_shutdown_by_app: this.abortCode !== undefined || this.sendClosed,
        is_closed_remotely: !connShutdown && this.abortCode === undefined,
        status: connShutdown ? 'aborted' : 'success',
        error: Number(this.abortCode ?? 0n),
      },
    ]);
    if (this.id !== undefined) this.conn.streams.delete(this.id);
    this.removeOwnerHook();
  }

  // ---------------------------------------------------------------------------------------
  // Ownership

  /** The owner died: abort both directions with error 0 (QUICER.md §0.5). */
  private ownerDown(_reason: ExitReason): void {
    if (this.closedSent) return;
    this.shutdown(StreamShutdownFlag.ABORT, 0n);
  }

  /**
   * Hands the stream to `newOwner` keeping the order of data and events (QUICER.md §5.5): the
   * new owner first gets `['stream_owner_handoff', S, postData]` (quicer's post_handoff), then
   * every message for this stream still queued at the old owner, then what arrives next.
   */
  handoff(newOwner: Process, postData?: unknown): void {
    const old = this.owner;
    const queued = old.extractMessages((m) => Array.isArray(m) && m[0] === 'quic' && m[2] === this);
    this.removeOwnerHook();
    this.owner = newOwner;
    this.removeOwnerHook = newOwner.onExitHook((r) => this.ownerDown(r));
    newOwner.send(['stream_owner_handoff', this, postData]);
    for (const m of queued) newOwner.send(m);
    this.onReadable();
  }

  // ---------------------------------------------------------------------------------------
  // Completion

  private readonly ackWaiters: Array<{ offset: number; resolve: (canceled: boolean) => void }> = [];
  private readonly closeWaiters: Array<() => void> = [];
  private closedFlag = false;

  /**
   * Resolves when every byte written so far is acknowledged by the peer (false), or when the
   * stream is aborted or closed first (true: canceled).
   */
  whenAcked(): Promise<boolean> {
    const ec = this.conn.ec;
    if (ec === undefined || this.closedFlag) return Promise.resolve(true);
    const target = this.bytesQueued;
    if (this.id !== undefined && ec.conn.streamAckedOffset(this.id) >= target) return Promise.resolve(false);
    if (this.id !== undefined) ec.conn.streamNotifyAcked(this.id, true);
    return new Promise((resolve) => this.ackWaiters.push({ offset: target, resolve }));
  }

  /** The transport reports the acknowledged prefix. */
  onDataAcked(offset: number): void {
    for (let i = 0; i < this.ackWaiters.length; ) {
      const w = this.ackWaiters[i]!;
      if (w.offset <= offset) {
        this.ackWaiters.splice(i, 1);
        w.resolve(false);
      } else i++;
    }
  }

  /** Resolves once the stream is closed (both directions done, or the connection gone). */
  whenClosed(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  // ---------------------------------------------------------------------------------------
  // Sending and shutdown

  /** Queues data (and the FIN with SendFlag.FIN); returns the bytes queued. */
  write(data: Uint8Array, flags: number, copy: boolean): number {
    const ec = this.conn.ec;
    if (ec === undefined || this.conn.closed) throw new StreamStateError('closed');
    if (this.sendClosed) throw new StreamStateError('invalid_state');
    const fin = (flags & SendFlag.FIN) !== 0;
    const bytes = copy ? data.slice() : data;
    if (this.id === undefined) this.pendingWrites.push({ data: bytes, fin });
    else ec.write(this.id, bytes, fin);
    if (fin) this.sendClosed = true;
    this.bytesQueued += data.length;
    return data.length;
  }

  /** quicer:shutdown_stream flags: GRACEFUL (FIN), ABORT_SEND, ABORT_RECEIVE, ABORT, IMMEDIATE. */
  shutdown(flags: number, errorCode: bigint): void {
    const ec = this.conn.ec;
    if (ec === undefined || this.id === undefined || this.conn.closed) return;
    const id = this.id;
    try {
      if (flags & StreamShutdownFlag.ABORT_SEND) {
        if (!this.sendClosed || this.abortCode === undefined) {
          this.abortCode = errorCode;
          this.sendClosed = true;
          ec.resetStream(id, errorCode);
          for (const w of this.ackWaiters.splice(0)) w.resolve(true);
          this.onSendShutdownComplete(false);
        }
      } else if (flags & StreamShutdownFlag.GRACEFUL && !this.sendClosed) {
        this.sendClosed = true;
        ec.write(id, new Uint8Array(0), true);
      }
      if (flags & StreamShutdownFlag.ABORT_RECEIVE) {
        this.abortCode ??= errorCode;
        ec.stopSending(id, errorCode);
      }
    } catch {
      // Already finished in that direction: nothing to do.
    }
  }
}

/** A send/recv on a stream in the wrong state (maps to quicer's error terms). */
export class StreamStateError extends Error {
  override readonly name = 'StreamStateError';
  constructor(readonly reason: 'closed' | 'invalid_state') {
    super(reason);
  }
}
