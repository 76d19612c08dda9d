/**
 * quicer's stream functions: start / accept streams, send and receive, shut down, hand over.
 */
import type { QuicConn } from './conn-handle.js';
import { validateStreamOpts } from './options.js';
import { Inbox, type Process } from './process.js';
import { QuicStrm, SendFlag, StreamEventMask, StreamShutdownFlag, StreamStartFlag, StreamStateError, StreamOpenFlag } from './stream-handle.js';
import { ownerOf, sleep } from './quicer-connections.js';

// -------------------------------------------------------------------------------------------
// Streams

/**
 * quicer:start_stream/2: opens a local stream owned by `owner` (default the caller). Stream
 * options default as quicer's (active true, start_flag SHUTDOWN_ON_FAIL). Without credit for
 * another stream the stream waits (peer_accepted follows with INDICATE_PEER_ACCEPT) unless
 * FAIL_BLOCKED asks for `['error', 'stm_start_error', 'stream_limit_reached']`.
 */
export function startStream(
  conn: QuicConn,
  streamOpts: Record<string, unknown> = {},
  owner?: Process,
): readonly ['ok', QuicStrm] | readonly ['error', 'closed'] | readonly ['error', 'stm_start_error', string] | readonly ['error', 'stm_open_error', string] {
  const so = validateStreamOpts(streamOpts);
  const ec = conn.ec;
  if (ec === undefined || conn.closed) return ['error', 'closed'];
  if (!conn.handshakeCompleted && !(so.openFlag & StreamOpenFlag.ZERO_RTT) && conn.side === 'server') {
    // quicer #265: fail fast instead of a timeout on a server connection still in its handshake.
    return ['error', 'stm_open_error', 'invalid_state'];
  }
  const p = ownerOf(owner);
  const bidi = (so.openFlag & StreamOpenFlag.UNIDIRECTIONAL) === 0;
  const s = new QuicStrm(conn, p, so, undefined, true, bidi);
  const started = s.tryStart();
  if (!started && so.startFlag & StreamStartFlag.FAIL_BLOCKED) {
    s.onClosed(false);
    return ['error', 'stm_start_error', 'stream_limit_reached'];
  }
  if (!started) ec.conn.streams.open(bidi); // registers the need: STREAMS_BLOCKED goes out
  conn.registerLocal(s);
  if (so.eventMask & StreamEventMask.START_COMPLETE) {
    p.send(['quic', 'start_completed', s, { status: 'success', stream_id: s.id, is_peer_accepted: started }]);
  }
  ec.flush();
  return ['ok', s];
}

/** quicer:async_accept_stream/2: the next peer stream goes to `owner` (default the caller). */
export function asyncAcceptStream(conn: QuicConn, streamOpts: Record<string, unknown> = {}, owner?: Process): readonly ['ok', QuicConn] | readonly ['error', 'closed'] {
  if (conn.closed) return ['error', 'closed'];
  conn.addStreamAcceptor(ownerOf(owner), validateStreamOpts(streamOpts));
  return ['ok', conn];
}

/** quicer:accept_stream/3: waits for the next peer stream. */
export async function acceptStream(conn: QuicConn, streamOpts: Record<string, unknown> = {}, timeoutMs = Infinity, owner?: Process): Promise<readonly ['ok', QuicStrm] | readonly ['error', 'timeout' | 'closed']> {
  if (conn.closed) return ['error', 'closed'];
  const inbox = new Inbox();
  conn.addStreamAcceptor(inbox, validateStreamOpts(streamOpts));
  try {
    const m = await inbox.receive<unknown[]>((x) => Array.isArray(x) && x[0] === 'quic' && (x[1] === 'new_stream' || x[1] === 'closed'), timeoutMs);
    if (m[1] === 'closed') return ['error', 'closed'];
    const s = m[2] as QuicStrm;
    s.handoff(ownerOf(owner));
    return ['ok', s];
  } catch {
    return ['error', 'timeout'];
  }
}

function sendError(e: unknown): readonly ['error', 'closed'] | readonly ['error', 'stm_send_error', string] {
  if (e instanceof StreamStateError) return e.reason === 'closed' ? ['error', 'closed'] : ['error', 'stm_send_error', 'invalid_state'];
  return ['error', 'stm_send_error', e instanceof Error ? e.message : String(e)];
}

/**
 * quicer:async_send/3: queues data (FIN with SendFlag.FIN); `['ok', BytesQueued]`. With
 * SendFlag.SYNC the caller later gets `['quic', 'send_complete', S, IsCanceled]`.
 */
export function asyncSend(stream: QuicStrm, data: Uint8Array, flags = 0, caller?: Process): readonly ['ok', number] | readonly ['error', 'closed'] | readonly ['error', 'stm_send_error', string] {
  if (!(data instanceof Uint8Array)) throw new TypeError(`send: data must be a Uint8Array, got ${typeof data}`);
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

/** quicer:send/2,3: queues and waits for send completion; `['error', 'cancelled']` if the stream was aborted first. */
export async function send(stream: QuicStrm, data: Uint8Array, flags = 0): Promise<readonly ['ok', number] | readonly ['error', 'cancelled' | 'closed'] | readonly ['error', 'stm_send_error', string]> {
  const r = asyncSend(stream, data, flags & ~SendFlag.SYNC);
  if (r[0] === 'error') return r;
  const canceled = await completion(stream, stream.conn.opts.sendBuffering);
  return canceled ? ['error', 'cancelled'] : r;
}

/** quicer:recv/2 on a passive stream: `len` bytes, or with 0 whatever is there. */
export function recv(stream: QuicStrm, len: number): Promise<readonly ['ok', Uint8Array] | readonly ['error', string]> {
  if (!Number.isInteger(len) || len < 0) throw new RangeError(`recv: len must be a non-negative integer, got ${len}`);
  return stream.recv(len);
}

/**
 * quicer:shutdown_stream/4: GRACEFUL (FIN after the queued data), ABORT_SEND / ABORT_RECEIVE /
 * ABORT (RESET_STREAM / STOP_SENDING with `errorCode`); waits until the stream is closed.
 */
export async function shutdownStream(stream: QuicStrm, flags: number = StreamShutdownFlag.GRACEFUL, errorCode: number | bigint = 0, timeoutMs = 5000): Promise<readonly ['ok'] | readonly ['error', 'timeout']> {
  stream.shutdown(flags, BigInt(errorCode));
  stream.conn.ec?.flush();
  const done = stream.whenClosed().then(() => ['ok'] as const);
  return timeoutMs === Infinity ? done : Promise.race([done, sleep(timeoutMs).then(() => ['error', 'timeout'] as const)]);
}

/** quicer:async_shutdown_stream/3. */
export function asyncShutdownStream(stream: QuicStrm, flags: number = StreamShutdownFlag.GRACEFUL, errorCode: number | bigint = 0): readonly ['ok'] {
  stream.shutdown(flags, BigInt(errorCode));
  stream.conn.ec?.flush();
  return ['ok'];
}

/** quicer:handoff_stream/3: gives the stream to `newOwner`, keeping the order of what is queued. */
export function handoffStream(stream: QuicStrm, newOwner: Process, handoffData?: unknown): readonly ['ok'] {
  stream.handoff(newOwner, handoffData);
  return ['ok'];
}

/** quicer:controlling_process/2 for a connection or stream. */
export function controllingProcess(h: QuicConn | QuicStrm, newOwner: Process): readonly ['ok'] {
  if (h.kind === 'connection') h.setOwner(newOwner);
  else h.handoff(newOwner);
  return ['ok'];
}

