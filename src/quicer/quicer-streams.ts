/**
 * quicer's stream functions: start / accept streams, send and receive, shut down, hand over.
 */
import type { QuicConn } from './conn-handle.js';
import { validateStreamOpts } from './options.js';
import { Inbox, ownerOf, self, sleep, type Process } from './process.js';
import { QuicStrm, SendFlag, StreamEventMask, StreamShutdownFlag, StreamStartFlag, StreamStateError, StreamOpenFlag, checkShutdownFlags, connectionUsable, type RecvResult, type StartCompletedProps } from './stream-handle.js';

// -------------------------------------------------------------------------------------------
// Streams

/** What `startStream` returns (quicer:start_stream/2's terms). */
export type StartStreamResult =
  | readonly ['ok', QuicStrm]
  | readonly ['error', 'closed']
  | readonly ['error', 'stm_start_error', string]
  | readonly ['error', 'stm_open_error', string];

/**
 * quicer:start_stream/2: opens a local stream owned by `owner` (default: the calling
 * process). Stream options default as quicer's (active true, start_flag SHUTDOWN_ON_FAIL);
 * bad options throw a TypeError / RangeError naming the key. Stream IDs follow RFC 9000:
 * 0, 4, 8… for client bidirectional streams, 1, 5… server bidi, 2, 6… client uni, 3, 7…
 * server uni (`open_flag: 1`).
 *
 * Without credit for another stream (the peer's MAX_STREAMS), the stream waits and starts as
 * soon as the peer allows it (STREAMS_BLOCKED tells the peer); with `start_flag`
 * INDICATE_PEER_ACCEPT (8) the owner then gets `['quic', 'peer_accepted', S, undefined]`.
 * FAIL_BLOCKED (2) asks for `['error', 'stm_start_error', 'stream_limit_reached']` instead.
 * IMMEDIATE (1) makes the peer learn of the stream at once, before any data (an empty STREAM
 * frame). With stream event mask bit 0x1 (`quic_event_mask` or `event_mask`) the owner gets
 * `['quic', 'start_completed', S, {status, stream_id, is_peer_accepted}]`.
 */
export function startStream(conn: QuicConn, streamOpts: Record<string, unknown> = {}, owner?: Process): StartStreamResult {
  const so = validateStreamOpts(streamOpts);
  const ec = conn.ec;
  if (ec === undefined || !connectionUsable(conn)) return ['error', 'closed'];
  if (!conn.handshakeCompleted && !(so.openFlag & StreamOpenFlag.ZERO_RTT) && conn.side === 'server') {
    // quicer #265: fail fast instead of a timeout on a server connection still in its handshake.
    return ['error', 'stm_open_error', 'invalid_state'];
  }
  const p = ownerOf(owner);
  const bidi = (so.openFlag & StreamOpenFlag.UNIDIRECTIONAL) === 0;
  const s = new QuicStrm(conn, p, so, undefined, true, bidi);
  const started = s.tryStart();
  if (!started && so.startFlag & StreamStartFlag.FAIL_BLOCKED) {
    s.abandon();
    ec.flush(); // STREAMS_BLOCKED
    return ['error', 'stm_start_error', 'stream_limit_reached'];
  }
  conn.registerLocal(s);
  if (so.eventMask & StreamEventMask.START_COMPLETE) {
    const props: StartCompletedProps = { status: 'success', stream_id: s.expectedId() ?? -1, is_peer_accepted: started };
    p.send(['quic', 'start_completed', s, props]);
  }
  ec.flush();
  return ['ok', s];
}

/** quicer:async_accept_stream/2: the next peer stream goes to `owner` (default the caller) as `['quic', 'new_stream', S, Props]`. */
export function asyncAcceptStream(conn: QuicConn, streamOpts: Record<string, unknown> = {}, owner?: Process): readonly ['ok', QuicConn] | readonly ['error', 'closed'] {
  const so = validateStreamOpts(streamOpts);
  if (conn.closed) return ['error', 'closed'];
  conn.addStreamAcceptor(ownerOf(owner), so);
  return ['ok', conn];
}

/**
 * quicer:accept_stream/3: waits for the next peer stream and makes `owner` (default the
 * caller) its owner; messages the stream sent meanwhile follow it, in order.
 */
export async function acceptStream(
  conn: QuicConn,
  streamOpts: Record<string, unknown> = {},
  timeoutMs = Infinity,
  owner?: Process,
): Promise<readonly ['ok', QuicStrm] | readonly ['error', 'timeout' | 'closed']> {
  const so = validateStreamOpts(streamOpts);
  if (conn.closed) return ['error', 'closed'];
  const newOwner = ownerOf(owner);
  const inbox = new Inbox();
  conn.addStreamAcceptor(inbox, so);
  try {
    const m = await inbox.receive<unknown[]>((x) => Array.isArray(x) && x[0] === 'quic' && (x[1] === 'new_stream' || x[1] === 'closed'), timeoutMs);
    if (m[1] === 'closed') return ['error', 'closed'];
    const s = m[2] as QuicStrm;
    s.moveTo(newOwner);
    return ['ok', s];
  } catch {
    return ['error', 'timeout'];
  } finally {
    // The stand-in acceptor leaves the queue (a dead acceptor is skipped).
    inbox.exit('normal');
  }
}

function sendError(e: unknown): readonly ['error', 'closed'] | readonly ['error', 'stm_send_error', string] {
  if (e instanceof StreamStateError) return e.reason === 'closed' ? ['error', 'closed'] : ['error', 'stm_send_error', 'invalid_state'];
  return ['error', 'stm_send_error', e instanceof Error ? e.message : String(e)];
}

/** What `asyncSend` returns. */
export type AsyncSendResult = readonly ['ok', number] | readonly ['error', 'closed'] | readonly ['error', 'stm_send_error', string];

function checkSendArgs(data: unknown, flags: unknown): void {
  if (!(data instanceof Uint8Array)) throw new TypeError(`send: data must be a Uint8Array, got ${data === null ? 'null' : typeof data}`);
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
    throw new RangeError(`send: flags ${String(flags)} is not allowed; expected an integer combination of FIN 0x4, SYNC 0x1000 and the other QUIC_SEND_FLAG_* bits`);
  }
}

/**
 * quicer:async_send/3: queues data (the FIN too with SendFlag.FIN = 4); `['ok', BytesQueued]`,
 * `['error', 'closed']` when the connection is gone, `['error', 'stm_send_error',
 * 'invalid_state']` after the FIN or an abort. A zero-length send is accepted and changes
 * nothing (with FIN it sends the FIN alone). With SendFlag.SYNC (4096) the caller (default
 * the calling process) later gets `['quic', 'send_complete', S, IsCanceled]`: at once with
 * `send_buffering_enabled` (the data was copied), else once the peer acknowledged every byte
 * (or `true` when the stream was aborted first).
 */
export function asyncSend(stream: QuicStrm, data: Uint8Array, flags = 0, caller?: Process): AsyncSendResult {
  checkSendArgs(data, flags);
  let n: number;
  const buffering = stream.conn.opts.sendBuffering;
  try {
    n = stream.write(data, flags, buffering);
  } catch (e) {
    return sendError(e);
  }
  stream.conn.ec?.flush();
  if (flags & SendFlag.SYNC) {
    const to = ownerOf(caller);
    void completion(stream, buffering).then((canceled) => to.send(['quic', 'send_complete', stream, canceled]));
  }
  return ['ok', n];
}

/** When a send completes: at once with send buffering (the data was copied), else once the peer acknowledged it. */
function completion(stream: QuicStrm, buffering: boolean): Promise<boolean> {
  if (buffering) return Promise.resolve(false);
  return stream.whenAcked();
}

/**
 * quicer:send/2,3: queues and waits for the send to complete (see `asyncSend`): `['ok', Len]`,
 * or `['error', 'cancelled']` if the stream was aborted (by either side) first.
 */
export async function send(stream: QuicStrm, data: Uint8Array, flags = 0): Promise<readonly ['ok', number] | readonly ['error', 'cancelled' | 'closed'] | readonly ['error', 'stm_send_error', string]> {
  const r = asyncSend(stream, data, flags & ~SendFlag.SYNC);
  if (r[0] === 'error') return r;
  const canceled = await completion(stream, stream.conn.opts.sendBuffering);
  return canceled ? ['error', 'cancelled'] : r;
}

/**
 * quicer:recv/2 on a passive stream: exactly `len` bytes, or with 0 whatever is there (at
 * least one byte). `['error', 'einval']` on an active stream; see `QuicStrm.recv` for the
 * end-of-stream terms. Throws RangeError for a negative or fractional `len`.
 */
export function recv(stream: QuicStrm, len: number): Promise<RecvResult> {
  if (!Number.isInteger(len) || len < 0) throw new RangeError(`recv: len must be a non-negative integer, got ${len}`);
  return stream.recv(len);
}

/**
 * quicer:shutdown_stream/4: GRACEFUL (FIN after the queued data), ABORT_SEND / ABORT_RECEIVE /
 * ABORT (RESET_STREAM / STOP_SENDING with `errorCode`), IMMEDIATE with ABORT (closed for us at
 * once); waits until the stream is closed (`stream_closed`), else `['error', 'timeout']`.
 * Throws RangeError for flags MsQuic rejects (0, GRACEFUL with others, IMMEDIATE without ABORT).
 */
export async function shutdownStream(stream: QuicStrm, flags: number = StreamShutdownFlag.GRACEFUL, errorCode: number | bigint = 0, timeoutMs = 5000): Promise<readonly ['ok'] | readonly ['error', 'timeout']> {
  checkShutdownFlags(flags);
  stream.shutdown(flags, BigInt(errorCode));
  stream.conn.ec?.flush();
  const done = stream.whenClosed().then(() => ['ok'] as const);
  return timeoutMs === Infinity ? done : Promise.race([done, sleep(timeoutMs).then(() => ['error', 'timeout'] as const)]);
}

/** quicer:async_shutdown_stream/3: as `shutdownStream` without waiting. */
export function asyncShutdownStream(stream: QuicStrm, flags: number = StreamShutdownFlag.GRACEFUL, errorCode: number | bigint = 0): readonly ['ok'] {
  checkShutdownFlags(flags);
  stream.shutdown(flags, BigInt(errorCode));
  stream.conn.ec?.flush();
  return ['ok'];
}

/**
 * quicer:handoff_stream/3: gives the stream to `newOwner`, keeping the order of data and
 * events (QUICER.md §5.5): `newOwner` first gets `['stream_owner_handoff', S, handoffData]`
 * (a stream process calls `postHandoff`), then the messages for the stream still queued at
 * the old owner, then new ones. Called from a process that is not the owner:
 * `['error', 'not_owner']`.
 */
export function handoffStream(stream: QuicStrm, newOwner: Process, handoffData?: unknown): readonly ['ok'] | readonly ['error', 'not_owner'] {
  const caller = self();
  if (caller !== undefined && caller !== stream.owner) return ['error', 'not_owner'];
  stream.handoff(newOwner, handoffData);
  return ['ok'];
}

/**
 * quicer:controlling_process/2 for a connection or stream: later messages go to `newOwner`,
 * and only its death closes the handle (the old owner's no longer does, QUICER.md §5.17).
 * From inside a process that is not the owner: `['error', 'not_owner']`.
 */
export function controllingProcess(h: QuicConn | QuicStrm, newOwner: Process): readonly ['ok'] | readonly ['error', 'not_owner'] {
  const caller = self();
  if (caller !== undefined && caller !== h.owner) return ['error', 'not_owner'];
  if (h.kind === 'connection') h.setOwner(newOwner);
  else h.setOwner(newOwner);
  return ['ok'];
}
