/**
 * The stream handle of the quicer layer (quicer's `stream_handle()`): one QUIC stream, owned
 * by a process that receives its data and events as quicer messages. Receive modes follow
 * quicer (QUICER.md §3e): active (`true`: every chunk as `['quic', Bin, S, Props]`), passive
 * (`false`: the owner pulls with `recv`), `'once'`, or a message count N (then `passive`).
 */
import type { ActiveMode, StreamOptions } from './options.js';
import type { Process, ExitReason } from './process.js';
import type { QuicConn } from './conn-handle.js';
import { transportShutdownProps } from './status.js';

/** Receive flags in data props (QUICER.md §3f). */
export const RecvFlag = { NONE: 0, ZERO_RTT: 1, FIN: 2 } as const;
/**
 * `start_flag` values (QUIC_STREAM_START_FLAG_*): IMMEDIATE announces the stream before any
 * data, FAIL_BLOCKED fails instead of waiting for the peer's stream credit, SHUTDOWN_ON_FAIL
 * (quicer's default) shuts the stream down if its start fails, INDICATE_PEER_ACCEPT sends
 * `peer_accepted` once a waiting stream starts.
 */
export const StreamStartFlag = { NONE: 0, IMMEDIATE: 1, FAIL_BLOCKED: 2, SHUTDOWN_ON_FAIL: 4, INDICATE_PEER_ACCEPT: 8, PRIORITY_WORK: 16 } as const;
/**
 * `open_flag` values (QUIC_STREAM_OPEN_FLAG_*): UNIDIRECTIONAL opens a send-only stream; ZERO_RTT
 * allows it in 0-RTT.
 */
export const StreamOpenFlag = { NONE: 0, UNIDIRECTIONAL: 1, ZERO_RTT: 2 } as const;
/**
 * `shutdownStream` flags (QUIC_STREAM_SHUTDOWN_FLAG_*): GRACEFUL sends the FIN after the queued
 * data; ABORT_SEND sends RESET_STREAM, ABORT_RECEIVE STOP_SENDING, ABORT both; IMMEDIATE (with
 * ABORT) closes the stream for us at once.
 */
export const StreamShutdownFlag = { NONE: 0, GRACEFUL: 1, ABORT_SEND: 2, ABORT_RECEIVE: 4, ABORT: 6, IMMEDIATE: 8 } as const;
/**
 * Send flags (QUIC_SEND_FLAG_*): FIN finishes the stream with this data; SYNC (4096, quicer's own
 * bit) asks for `['quic', 'send_complete', S, IsCanceled]` once the send completed.
 */
export const SendFlag = { NONE: 0, ALLOW_0_RTT: 0x1, START: 0x2, FIN: 0x4, DGRAM_PRIORITY: 0x8, DELAY_SEND: 0x10, SYNC: 0x1000 } as const;
/**
 * Stream event mask bits (`quic_event_mask` / `event_mask` in stream_opts): START_COMPLETE delivers
 * `start_completed`.
 */
export const StreamEventMask = { START_COMPLETE: 0x1 } as const;

/** Props of `['quic', Bin, S, Props]` data messages. */
export interface RecvDataProps {
  /** Offset of the message's first byte in the stream. */
  absolute_offset: number;
  /** Number of bytes in the message. */
  len: number;
  /** RecvFlag bits: 1 received in 0-RTT, 2 FIN (the stream's last data). */
  flags: number;
}

/** Props of `['quic', 'start_completed', S, Props]` (with stream event mask bit 0x1). */
export interface StartCompletedProps {
  /** `'success'`, or why the start failed. */
  status: string;
  /** The stream's ID (the one it will have, for a stream waiting for credit). */
  stream_id: number;
  /**
   * The stream was within the peer's stream limit when it started (else it waits: `peer_accepted`
   * follows).
   */
  is_peer_accepted: boolean;
}

/**
 * Props of `['quic', 'stream_closed', S, Props]`. As in MsQuic's SHUTDOWN_COMPLETE, the
 * `is_*`, `status` and `error` fields describe the connection when it took the stream down
 * (`is_conn_shutdown`); for a stream that ended on its own they are false / `'success'` / 0.
 */
export interface StreamClosedProps {
  /** The stream ended because its connection closed. */
  is_conn_shutdown: boolean;
  /** That connection close was asked for by our application. */
  is_app_closing: boolean;
  /** The connection was closed by an application (ours or the peer's) rather than the transport. */
  is_shutdown_by_app: boolean;
  /** The connection was closed by the peer (or a stateless reset). */
  is_closed_remotely: boolean;
  /** The connection's close as a quicer status (`transport_shutdown`'s), `'success'` otherwise. */
  status: string | readonly [string, number];
  /** The connection's close code (`transport_shutdown`'s `error`), 0 otherwise. */
  error: number;
}

/** What `recv` resolves with. */
export type RecvResult = readonly ['ok', Uint8Array] | readonly ['error', 'einval' | 'closed' | 'peer_send_aborted' | 'peer_send_shutdown'];

/** A waiting `recv(S, Len)` in passive mode. */
interface RecvWaiter {
  len: number;
  resolve: (v: RecvResult) => void;
}

const EMPTY = new Uint8Array(0);

/** True when `mode` delivers data as messages (not passive). */
function isActive(mode: ActiveMode): boolean {
  return mode === true || mode === 'once' || (typeof mode === 'number' && mode > 0);
}

/**
 * quicer's `stream_handle()`: one QUIC stream of a `QuicConn`, owned by a process that gets its
 * data (`['quic', Bin, S, RecvDataProps]` in an active mode) and events (`['quic', Event, S,
 * Props]`). Created by `startStream` (local), or by the connection for a peer's stream (given to a
 * queued stream acceptor or, passive, to the connection owner as an orphan). When its owner ends,
 * the stream is aborted both ways with error 0.
 */
export class QuicStrm {
  /** Tells a stream handle from a connection or listener handle. */
  readonly kind = 'stream' as const;
  /** The stream ID; undefined while a local stream waits for the peer's stream credit. */
  id: number | undefined;
  /** The process that receives this stream's messages. */
  owner: Process;
  private removeOwnerHook: () => void;
  /** The receive mode (quicer's `active`). */
  active: ActiveMode;
  /** Bidirectional (else unidirectional: `open_flag` 1 or an ID with bit 2 set). */
  readonly bidi: boolean;
  /** Absolute offset of the next byte delivered to the owner. */
  private delivered = 0;
  private peerShutdownSent = false;
  /** The owner was given the FIN (with data, a recv, or peer_send_shutdown). */
  private finReached = false;
  private closedSent = false;
  /** We asked the peer to stop sending (STOP_SENDING): nothing more is delivered. */
  private recvAborted = false;
  private sendShutdownSent = false;
  private readonly waiters: RecvWaiter[] = [];
  /** The peer accepted this stream: it was within the peer's stream limit when it started. */
  peerAccepted = false;
  /** `tryStart` was called once (a later success means the stream had waited for credit). */
  private startAttempted = false;
  /** Set when this side aborted sending (RESET_STREAM) or finished (FIN). */
  sendClosed = false;
  /** Our RESET_STREAM / STOP_SENDING error code, once we aborted a direction. */
  abortCode: bigint | undefined;
  /** Application bytes queued by `send`. */
  bytesQueued = 0;
  /** Writes queued while the stream waited for credit. */
  private readonly pendingWrites: Array<{ data: Uint8Array; fin: boolean }> = [];
  private readonly ackWaiters: Array<{ offset: number; resolve: (canceled: boolean) => void }> = [];
  private readonly closeWaiters: Array<() => void> = [];

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

  /** The connection takes stream calls: started, and not closing, draining or closed. */
  private get connUsable(): boolean {
    return connectionUsable(this.conn);
  }

  /** True once the stream is closed (both directions done, aborted, or the connection gone). */
  get isClosed(): boolean {
    return this.closedSent;
  }

  /**
   * The ID this stream has or will have: a stream waiting for credit gets the next ID of its
   * direction after the streams queued before it (MsQuic assigns IDs at start).
   */
  expectedId(): number | undefined {
    if (this.id !== undefined) return this.id;
    const c = this.conn.ec?.conn;
    if (c === undefined) return undefined;
    let ahead = 0;
    for (const q of this.conn.queuedStreams) {
      if (q === this) break;
      if (q.bidi === this.bidi) ahead++;
    }
    return c.streams.nextLocalId(this.bidi) + 4 * ahead;
  }

  /**
   * Starts a local stream once the peer allows it; false while still blocked. A stream that
   * had to wait gets `peer_accepted` when it starts (with INDICATE_PEER_ACCEPT), and with
   * IMMEDIATE the peer learns of it at once (an empty STREAM frame) even before any data.
   */
  tryStart(): boolean {
    if (this.id !== undefined) return true;
    const waited = this.startAttempted;
    this.startAttempted = true;
    if (this.closedSent || !this.connUsable) return false;
    const ec = this.conn.ec!;
    const c = ec.conn;
    const id = c.openStream(this.bidi);
    if (id === undefined) return false;
    this.id = id;
    this.peerAccepted = !waited;
    if (this.opts.priority !== undefined) c.streamSetPriority(id, this.opts.priority);
    if (this.ackWaiters.length > 0) c.streamNotifyAcked(id, true);
    if (this.opts.startFlag & StreamStartFlag.IMMEDIATE && this.pendingWrites.length === 0) c.streamAnnounce(id);
    for (const w of this.pendingWrites.splice(0)) ec.write(id, w.data, w.fin);
    if (waited && this.opts.startFlag & StreamStartFlag.INDICATE_PEER_ACCEPT) this.post(['quic', 'peer_accepted', this, undefined]);
    ec.flush();
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Receiving

  /** The transport says data (or the FIN) can be read. */
  onReadable(): void {
    if (isActive(this.active)) this.deliverActive();
    else this.servePassive();
  }

  /** Active modes: everything readable goes to the owner as data messages, the FIN flagged. */
  private deliverActive(): void {
    const ec = this.conn.ec;
    if (ec === undefined || this.id === undefined || this.finReached || this.recvAborted) return;
    while (isActive(this.active)) {
      const r = ec.read(this.id);
      if (r === undefined) return;
      if (r.data.length === 0 && !r.fin) return;
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
   * available (at least one byte). Resolves `['error', 'einval']` on an active stream;
   * the bytes left when the peer finished before `len` were there (a shorter read), then
   * `['error', 'peer_send_shutdown']`; `['error', 'peer_send_aborted']` after the peer's
   * RESET_STREAM; `['error', 'closed']` once the stream or connection is gone. Bytes are
   * taken from the stream only when a read completes, so nothing is lost or read twice.
   */
  recv(len: number): Promise<RecvResult> {
    if (isActive(this.active)) return Promise.resolve(['error', 'einval'] as const);
    return new Promise((resolve) => {
      this.waiters.push({ len, resolve });
      this.servePassive();
    });
  }

  /** Serves waiting `recv`s; with none waiting, a lone FIN is taken and announced. */
  private servePassive(): void {
    const ec = this.conn.ec;
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      if (this.finReached || this.recvAborted) {
        this.waiters.shift();
        w.resolve(['error', this.finReached ? 'peer_send_shutdown' : 'closed']);
        continue;
      }
      if (ec === undefined || this.id === undefined || this.conn.closed || this.closedSent) {
        if (this.conn.closed || this.closedSent) {
          this.waiters.shift();
          w.resolve(['error', 'closed']);
          continue;
        }
        return; // a local stream still waiting for credit
      }
      const avail = ec.conn.streamReadable(this.id);
      const finish = this.peerFinishedAll();
      const want = w.len === 0 ? Math.max(1, avail) : w.len;
      if (avail < want && !finish) {
        // Reading nothing re-arms the transport's readable signal (it is edge-triggered).
        ec.read(this.id, 0);
        return;
      }
      const r = ec.read(this.id, w.len === 0 ? Infinity : w.len);
      this.waiters.shift();
      if (r === undefined) {
        w.resolve(['error', 'closed']);
        continue;
      }
      this.delivered += r.data.length;
      if (r.fin) this.finReached = true;
      if (r.data.length > 0) w.resolve(['ok', r.data]);
      else this.waiters.unshift(w); // only the FIN was left: answered on the next round
      if (r.fin) this.peerSendShutdown();
      else if (r.data.length === 0) return;
    }
    // No reader waiting: a FIN with no data left before it is taken now, so the owner learns
    // the peer finished (MsQuic indicates PEER_SEND_SHUTDOWN once all data was received).
    if (ec !== undefined && this.id !== undefined && !this.finReached && !this.recvAborted && !this.closedSent && !this.conn.closed) {
      if (ec.conn.streamReadable(this.id) === 0 && this.peerFinishedAll()) {
        const r = ec.read(this.id, 0);
        if (r !== undefined && r.fin) {
          this.finReached = true;
          this.peerSendShutdown();
        }
      }
    }
  }

  /** Everything the peer will send has arrived (FIN received). */
  private peerFinishedAll(): boolean {
    const ec = this.conn.ec;
    if (ec === undefined || this.id === undefined) return true;
    const s = ec.conn.streams.get(this.id);
    return s === undefined || s.recv === undefined || s.recv.isComplete;
  }

  /**
   * Sets the receive mode (quicer's setopt(S, active, Mode)); a count adds to the current
   * count (as inet's `{active, N}`). Reaching 0 or below makes the stream passive with a
   * `passive` message. Switching to an active mode fails pending `recv`s with
   * `['error', 'einval']` without taking any byte: what they waited for arrives as messages.
   */
  setActive(mode: ActiveMode): void {
    if (typeof mode === 'number' && typeof this.active === 'number') this.active += mode;
    else this.active = mode;
    if (typeof this.active === 'number' && this.active <= 0) {
      this.active = false;
      this.post(['quic', 'passive', this, undefined]);
    }
    if (isActive(this.active)) for (const w of this.waiters.splice(0)) w.resolve(['error', 'einval']);
    this.onReadable();
  }

  // ---------------------------------------------------------------------------------------
  // Events from the transport

  /** The peer reset its sending part (RESET_STREAM). */
  onPeerSendAborted(code: bigint): void {
    this.post(['quic', 'peer_send_aborted', this, code]);
    for (const w of this.waiters.splice(0)) w.resolve(['error', 'peer_send_aborted']);
  }

  /**
   * The peer asked us to stop sending (STOP_SENDING): the transport resets our sending part
   * unless everything was already acknowledged, so pending send completions are cancelled.
   */
  onPeerReceiveAborted(code: bigint): void {
    this.post(['quic', 'peer_receive_aborted', this, code]);
    this.sendClosed = true;
    for (const w of this.ackWaiters.splice(0)) w.resolve(true);
    this.onSendShutdownComplete(false);
  }

  /** Our sending part is done: everything acknowledged (graceful) or aborted. */
  onSendShutdownComplete(graceful: boolean): void {
    if (this.sendShutdownSent) return;
    this.sendShutdownSent = true;
    this.post(['quic', 'send_shutdown_complete', this, graceful]);
  }

  /** Flow-control credit came back (no quicer event: writes are queued without limit). */
  onWritable(): void {}

  /** Both directions finished (or the connection ended: `connShutdown`). */
  onClosed(connShutdown: boolean): void {
    if (this.closedSent) return;
    this.closedSent = true;
    for (const w of this.ackWaiters.splice(0)) w.resolve(true);
    for (const w of this.closeWaiters.splice(0)) w();
    for (const w of this.waiters.splice(0)) w.resolve(['error', 'closed']);
    this.post(['quic', 'stream_closed', this, this.closedProps(connShutdown)]);
    if (this.id !== undefined) this.conn.streams.delete(this.id);
    else {
      const i = this.conn.queuedStreams.indexOf(this);
      if (i >= 0) this.conn.queuedStreams.splice(i, 1);
    }
    this.removeOwnerHook();
  }

  private closedProps(connShutdown: boolean): StreamClosedProps {
    const info = connShutdown ? this.conn.ec?.shutdownInfo : undefined;
    if (info === undefined) {
      return { is_conn_shutdown: connShutdown, is_app_closing: connShutdown && this.conn.appClosing, is_shutdown_by_app: false, is_closed_remotely: false, status: 'success', error: 0 };
    }
    const byApp = info.source === 'application' || info.source === 'peer-application';
    const remote = info.source === 'peer-application' || info.source === 'peer-transport' || info.source === 'stateless-reset';
    const t = transportShutdownProps(info);
    return {
      is_conn_shutdown: true,
      is_app_closing: this.conn.appClosing,
      is_shutdown_by_app: byApp,
      is_closed_remotely: remote,
      status: t?.status ?? 'success',
      error: t?.error ?? Number(info.code),
    };
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
    this.moveTo(newOwner, ['stream_owner_handoff', this, postData]);
  }

  /**
   * Makes `newOwner` the owner and moves the messages for this stream still queued at the old
   * owner to it, in order (after `first`, when given).
   */
  moveTo(newOwner: Process, first?: unknown): void {
    const old = this.owner;
    const queued = old === newOwner ? [] : old.extractMessages((m) => Array.isArray(m) && m[0] === 'quic' && m[2] === this);
    this.setOwner(newOwner);
    if (first !== undefined) newOwner.send(first);
    for (const m of queued) newOwner.send(m);
    this.onReadable();
  }

  /** Forgets a local stream that never started (FAIL_BLOCKED): no message, no owner watch. */
  abandon(): void {
    this.closedSent = true;
    this.removeOwnerHook();
  }

  /** Changes the owner (quicer's controlling_process): later messages go to `p`; the old owner's death no longer matters. */
  setOwner(p: Process): void {
    this.removeOwnerHook();
    this.owner = p;
    this.removeOwnerHook = this.closedSent ? () => {} : p.onExitHook((r) => this.ownerDown(r));
  }

  // ---------------------------------------------------------------------------------------
  // Completion

  /**
   * Resolves when every byte written so far is acknowledged by the peer (false), or when the
   * stream is aborted or closed first (true: canceled).
   */
  whenAcked(): Promise<boolean> {
    const ec = this.conn.ec;
    if (ec === undefined || this.closedSent) return Promise.resolve(true);
    const target = this.bytesQueued;
    if (this.id !== undefined && ec.conn.streamAckedOffset(this.id) >= target) return Promise.resolve(false);
    if (this.sendClosed && this.abortCode !== undefined) return Promise.resolve(true);
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
    if (this.closedSent) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  // ---------------------------------------------------------------------------------------
  // Sending and shutdown

  /** Queues data (and the FIN with SendFlag.FIN); returns the bytes queued. */
  write(data: Uint8Array, flags: number, copy: boolean): number {
    const ec = this.conn.ec;
    if (ec === undefined || !this.connUsable) throw new StreamStateError('closed');
    if (this.sendClosed || this.closedSent) throw new StreamStateError('invalid_state');
    const fin = (flags & SendFlag.FIN) !== 0;
    if (data.length > 0 || fin) {
      const bytes = copy && data.length > 0 ? data.slice() : data.length > 0 ? data : EMPTY;
      if (this.id === undefined) this.pendingWrites.push({ data: bytes, fin });
      else ec.write(this.id, bytes, fin);
    }
    if (fin) this.sendClosed = true;
    this.bytesQueued += data.length;
    return data.length;
  }

  /**
   * quicer:shutdown_stream flags: GRACEFUL (FIN after the queued data), ABORT_SEND
   * (RESET_STREAM), ABORT_RECEIVE (STOP_SENDING), ABORT (both), and IMMEDIATE with ABORT
   * (the stream is closed for us at once, without waiting for the peer). Throws RangeError
   * for combinations MsQuic rejects: none, GRACEFUL with an abort, IMMEDIATE without ABORT.
   */
  shutdown(flags: number, errorCode: bigint): void {
    checkShutdownFlags(flags);
    if (this.closedSent || !this.connUsable) return;
    const ec = this.conn.ec!;
    const id = this.id;
    if (id === undefined) {
      // Still waiting for stream credit: nothing reached the peer.
      if (flags & StreamShutdownFlag.GRACEFUL) {
        if (!this.sendClosed) this.pendingWrites.push({ data: EMPTY, fin: true });
        this.sendClosed = true;
        return;
      }
      this.abortCode = errorCode;
      this.sendClosed = true;
      this.onSendShutdownComplete(false);
      this.onClosed(false);
      return;
    }
    if (flags & StreamShutdownFlag.ABORT_SEND && this.abortCode === undefined && !this.sendShutdownSent) {
      this.abortCode = errorCode;
      this.sendClosed = true;
      if (this.bidi || this.local) quietly(() => ec.resetStream(id, errorCode));
      for (const w of this.ackWaiters.splice(0)) w.resolve(true);
      this.onSendShutdownComplete(false);
    } else if (flags & StreamShutdownFlag.GRACEFUL && !this.sendClosed && (this.bidi || this.local)) {
      this.sendClosed = true;
      quietly(() => ec.write(id, EMPTY, true));
    }
    if (flags & StreamShutdownFlag.ABORT_RECEIVE && (this.bidi || !this.local)) {
      this.abortCode ??= errorCode;
      quietly(() => ec.stopSending(id, errorCode));
      this.recvAborted = true;
      for (const w of this.waiters.splice(0)) w.resolve(['error', 'closed']);
    }
    if (flags & StreamShutdownFlag.IMMEDIATE) this.onClosed(false);
  }
}

/** The connection takes stream calls: started, and not closing, draining or closed. */
export function connectionUsable(conn: QuicConn): boolean {
  const c = conn.ec?.conn;
  if (c === undefined || conn.closed) return false;
  const st = c.state;
  return st !== 'closing' && st !== 'draining' && st !== 'closed';
}

/**
 * Runs a transport stream call that may find the stream already finished in that direction
 * or forgotten (its close event not delivered yet): then there is nothing left to do.
 */
function quietly(call: () => void): void {
  try {
    call();
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
}

/** Throws RangeError for a shutdown flag combination MsQuic rejects. */
export function checkShutdownFlags(flags: number): void {
  const F = StreamShutdownFlag;
  if (!Number.isInteger(flags) || flags <= 0 || flags > 15) {
    throw new RangeError(`shutdown flags: ${flags} is not allowed; expected a combination of GRACEFUL 1, ABORT_SEND 2, ABORT_RECEIVE 4, IMMEDIATE 8`);
  }
  if (flags & F.GRACEFUL && flags !== F.GRACEFUL) throw new RangeError(`shutdown flags: ${flags} is not allowed; GRACEFUL (1) cannot be combined with other flags`);
  if (flags & F.IMMEDIATE && (flags & F.ABORT) !== F.ABORT) throw new RangeError(`shutdown flags: ${flags} is not allowed; IMMEDIATE (8) needs ABORT (6)`);
}

/** A send/recv on a stream in the wrong state (maps to quicer's error terms). */
export class StreamStateError extends Error {
  override readonly name = 'StreamStateError';
  constructor(readonly reason: 'closed' | 'invalid_state') {
    super(reason);
  }
}
