/**
 * quicer's lower-level functions (the `quicer` module), on top of which the behaviours stand:
 * connect / listen / accept / handshake, streams, send / recv, shutdown, getopt / setopt,
 * addresses and certificates, datagrams and statistics. Results are quicer's terms as tagged
 * tuples: `['ok', Value]`, `['error', Reason]`, `['error', Kind, Status]`. Options are validated
 * first: a bad option throws a TypeError / RangeError naming it, before anything is sent.
 *
 * Functions that need an owner (the process that receives the events) take the calling
 * process (`self()`) when called from inside a callback, or an explicit `owner`.
 */
import { isIP } from 'node:net';
import { QuicConn, ConnShutdownFlag } from './conn-handle.js';
import { QuicListener, type ListenOn } from './listener.js';
import { validateActive, validateConnOpts, validateStreamOpts, MSQUIC_DEFAULTS, type ConnOptions } from './options.js';
import { Inbox, self, type Process } from './process.js';
import { globalRegistration, type Registration } from './registration.js';
import { QuicStrm, SendFlag, StreamEventMask, StreamShutdownFlag, StreamStartFlag, StreamStateError, StreamOpenFlag } from './stream-handle.js';
import { clientTls } from './tls-config.js';
import { nowMs } from '../endpoint/udp-endpoint.js';
import type { TransportShutdownProps } from './status.js';

export { QuicConn, QuicListener, QuicStrm };

type Certs = readonly [Uint8Array, readonly Uint8Array[]];

/** The owner for a handle: the given process, the calling one, or a fresh inbox. */
function ownerOf(owner: Process | undefined): Process {
  return owner ?? self() ?? new Inbox();
}

/** A connection handle for the client connection (not started) — quicer:open_connection. */
export function openConnection(owner?: Process): QuicConn {
  return new QuicConn('client', validateConnOpts({ alpn: ['h3'] }, { side: 'client' }), ownerOf(owner));
}

/** Starts a client connection to `host:port` (an IP literal or a name resolved with the OS resolver). */
async function startClient(host: string, port: number, opts: ConnOptions, owner: Process, registration: Registration, existing?: QuicConn): Promise<QuicConn> {
  const ip = isIP(host) ? host : await resolve(host);
  const ep = await registration.clientEndpoint(ip, opts.localAddress);
  const conn = existing ?? new QuicConn('client', opts, owner);
  const ec = ep.connect(ip, port, { tls: clientTls(opts, host), transport: opts.transport });
  conn.attach(ec, ep);
  registration.connectionCount++;
  conn.closeHooks.push(() => {
    registration.connectionCount--;
    if (opts.localAddress !== undefined) void registration.release(ep);
  });
  return conn;
}

async function resolve(host: string): Promise<string> {
  const { lookup } = await import('node:dns/promises');
  return (await lookup(host)).address;
}

export interface ConnectOptions {
  owner?: Process;
  registration?: Registration;
}

/**
 * quicer:connect/4: connects and waits for the handshake. `handshake_idle_timeout_ms`
 * defaults to `timeoutMs`, so a connect that does not complete ends as a transport shutdown
 * (`['error', 'transport_down', {status: 'connection_idle', error: 1}]`), as in quicer. With
 * `custom_verify`, resolves `['ok', conn, [cert, chain]]` when the certificate arrives first.
 */
export async function connect(
  host: string,
  port: number,
  connOpts: Record<string, unknown>,
  timeoutMs = 5000,
  o: ConnectOptions = {},
): Promise<readonly ['ok', QuicConn] | readonly ['ok', QuicConn, Certs] | readonly ['error', 'transport_down', TransportShutdownProps] | readonly ['error', unknown]> {
  const opts = validateConnOpts({ handshake_idle_timeout_ms: timeoutMs, ...connOpts }, { side: 'client' });
  let conn: QuicConn;
  try {
    conn = await startClient(host, port, opts, ownerOf(o.owner), o.registration ?? globalRegistration, existingHandle(opts));
  } catch (e) {
    return ['error', (e as Error).message];
  }
  const outcome = await conn.awaitHandshake();
  if (outcome.kind === 'connected') return conn.certsFirst ? ['ok', conn, conn.certsFirst] : ['ok', conn];
  if (outcome.kind === 'transport_down') return ['error', 'transport_down', outcome.props];
  return ['error', 'closed'];
}

function existingHandle(opts: ConnOptions): QuicConn | undefined {
  const h = opts.handle;
  if (h === undefined) return undefined;
  if (!(h instanceof QuicConn) || h.ec !== undefined || h.side !== 'client') {
    throw new TypeError('conn_opts.handle: expected a connection handle from openConnection() that was not started yet');
  }
  // The handle was opened with placeholder options: it takes this connect's options.
  Object.assign(h.opts, opts);
  return h;
}

/** quicer:async_connect/3: starts a client connection; events go to the owner. */
export async function asyncConnect(host: string, port: number, connOpts: Record<string, unknown>, o: ConnectOptions = {}): Promise<readonly ['ok', QuicConn] | readonly ['error', unknown]> {
  const opts = validateConnOpts(connOpts, { side: 'client' });
  try {
    const conn = await startClient(host, port, opts, ownerOf(o.owner), o.registration ?? globalRegistration, existingHandle(opts));
    return ['ok', conn];
  } catch (e) {
    return ['error', (e as Error).message];
  }
}

/**
 * quicer:shutdown_connection/4: closes (application error `errorCode`; SILENT sends no
 * CONNECTION_CLOSE) and waits until the connection is closed. Idempotent: a closed connection
 * answers `['ok']` at once (QUICER.md §5.16).
 */
export async function shutdownConnection(conn: QuicConn, flags = 0, errorCode: number | bigint = 0, timeoutMs = 5000): Promise<readonly ['ok'] | readonly ['error', 'timeout']> {
  if (conn.closed || conn.ec === undefined) return ['ok'];
  conn.shutdown(flags, errorCode);
  const done = conn.ec.closed().then(() => ['ok'] as const);
  return timeoutMs === Infinity ? done : Promise.race([done, sleep(timeoutMs).then(() => ['error', 'timeout'] as const)]);
}

/** quicer:async_shutdown_connection/3. */
export function asyncShutdownConnection(conn: QuicConn, flags = 0, errorCode: number | bigint = 0): readonly ['ok'] {
  conn.shutdown(flags, errorCode);
  return ['ok'];
}

export { ConnShutdownFlag };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

// -------------------------------------------------------------------------------------------
// Server

/** quicer:listen/2. Throws TypeError/RangeError for bad options; `['error', reason]` when the address cannot be bound. */
export async function listen(on: ListenOn, lopts: Record<string, unknown>): Promise<readonly ['ok', QuicListener] | readonly ['error', unknown]> {
  try {
    return ['ok', await QuicListener.open(on, lopts)];
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    return ['error', code === 'EADDRINUSE' ? 'address_in_use' : (e as Error).message];
  }
}

/** quicer:close_listener/1: no new connections; established ones go on. */
export async function closeListener(l: QuicListener): Promise<readonly ['ok']> {
  await l.close();
  return ['ok'];
}

/** quicer:async_accept/2: the next connection goes to `acceptor` (default: the caller). */
export function asyncAccept(l: QuicListener, acceptor?: Process): readonly ['ok', QuicListener] {
  l.addAcceptor(ownerOf(acceptor));
  return ['ok', l];
}

/** quicer:accept/3: waits for the next connection (as `new_conn`), owned by the caller. */
export async function accept(l: QuicListener, timeoutMs = Infinity, owner?: Process): Promise<readonly ['ok', QuicConn] | readonly ['error', 'timeout']> {
  const inbox = new Inbox();
  l.addAcceptor(inbox);
  try {
    const m = await inbox.receive<unknown[]>((x) => Array.isArray(x) && x[0] === 'quic' && x[1] === 'new_conn', timeoutMs);
    const conn = m[2] as QuicConn;
    conn.setOwner(ownerOf(owner));
    return ['ok', conn];
  } catch {
    inbox.exit('normal');
    return ['error', 'timeout'];
  } finally {
    // The inbox only stood in until the owner took over.
  }
}

/**
 * quicer:async_handshake/1,2: continues a server connection held since `new_conn`. Settings
 * in `connOpts` that can change after the ClientHello (keep-alive, peer stream counts) are
 * applied; an invalid map changes nothing and gives `['error', 'param_error']`.
 */
export function asyncHandshake(conn: QuicConn, connOpts?: Record<string, unknown>): readonly ['ok'] | readonly ['error', 'param_error' | 'closed'] {
  if (conn.ec === undefined || conn.closed) return ['error', 'closed'];
  if (connOpts !== undefined) {
    try {
      applyRuntimeSettings(conn, connOpts);
    } catch {
      return ['error', 'param_error'];
    }
  }
  conn.ec.conn.releaseHandshake();
  conn.ec.flush();
  return ['ok'];
}

/** quicer:handshake/1,2,3: continues and waits for completion (`['ok', conn, certs]` with custom_verify). */
export async function handshake(conn: QuicConn, connOpts?: Record<string, unknown>, timeoutMs = 5000): Promise<readonly ['ok', QuicConn] | readonly ['ok', QuicConn, Certs] | readonly ['error', unknown]> {
  const r = asyncHandshake(conn, connOpts);
  if (r[0] === 'error') return r;
  const outcome = await Promise.race([conn.awaitHandshake(), sleep(timeoutMs).then(() => undefined)]);
  if (outcome === undefined) return ['error', 'timeout'];
  if (outcome.kind === 'connected') return conn.certsFirst ? ['ok', conn, conn.certsFirst] : ['ok', conn];
  return ['error', 'closed'];
}

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

// -------------------------------------------------------------------------------------------
// Datagrams, certificates, addresses, statistics

/** quicer:send_dgram/2: `['error', 'dgram_send_error', 'invalid_state']` when the peer does not accept datagrams. */
export function sendDgram(conn: QuicConn, data: Uint8Array): readonly ['ok', number] | readonly ['error', 'dgram_send_error', string] | readonly ['error', 'closed'] {
  const ec = conn.ec;
  if (ec === undefined || conn.closed) return ['error', 'closed'];
  if (ec.conn.maxDatagramPayload === 0) return ['error', 'dgram_send_error', 'invalid_state'];
  if (data.length > ec.conn.maxDatagramPayload) return ['error', 'dgram_send_error', 'invalid_parameter'];
  return ec.sendDatagram(data) ? ['ok', data.length] : ['error', 'dgram_send_error', 'out_of_memory'];
}

/** quicer:complete_cert_validation/3: the verdict on a `peer_cert_received`. */
export function completeCertValidation(conn: QuicConn, accept: boolean, tlsAlert = 42): readonly ['ok'] | readonly ['error', 'closed'] {
  if (conn.ec === undefined || conn.closed) return ['error', 'closed'];
  conn.ec.completeCertificateVerification(accept ? { ok: true } : { ok: false, alert: tlsAlert, reason: `rejected by the application (alert ${tlsAlert})` });
  return ['ok'];
}

/** quicer:peercert/1: the peer's leaf certificate (DER). */
export function peercert(h: QuicConn | QuicStrm): readonly ['ok', Uint8Array] | readonly ['error', 'no_peercert'] {
  const c = h.kind === 'stream' ? h.conn : h;
  const leaf = c.peerChain?.[0];
  return leaf !== undefined ? ['ok', leaf] : ['error', 'no_peercert'];
}

/** quicer:negotiated_protocol/1. */
export function negotiatedProtocol(conn: QuicConn): readonly ['ok', string] | readonly ['error', 'not_found'] {
  const a = conn.ec?.conn.negotiatedAlpn;
  return a !== undefined ? ['ok', a] : ['error', 'not_found'];
}

/** quicer:peername/1. */
export function peername(h: QuicConn | QuicStrm): readonly ['ok', { address: string; port: number }] | readonly ['error', 'closed'] {
  const c = h.kind === 'stream' ? h.conn : h;
  const ec = c.ec;
  if (ec === undefined) return ['error', 'closed'];
  const a = ec.remoteAddress;
  return ['ok', { address: a.address, port: a.port }];
}

/** quicer:sockname/1. */
export function sockname(h: QuicConn | QuicStrm | QuicListener): readonly ['ok', { address: string; port: number }] | readonly ['error', 'closed'] {
  if (h.kind === 'listener') return ['ok', h.address()];
  const c = h.kind === 'stream' ? h.conn : h;
  if (c.endpoint === undefined) return ['error', 'closed'];
  const a = c.endpoint.address();
  return ['ok', { address: a.address, port: a.port }];
}

/** quicer:getstat/2: inet-style counters (`send_cnt`, `send_oct`, `recv_cnt`, `recv_oct`, `send_pend`). */
export function getstat(conn: QuicConn, counters: readonly string[]): readonly ['ok', Array<[string, number]>] | readonly ['error', string] {
  const c = conn.ec?.conn;
  if (c === undefined) return ['error', 'closed'];
  const out: Array<[string, number]> = [];
  for (const name of counters) {
    switch (name) {
      case 'send_cnt':
        out.push([name, c.stats.packetsSent]);
        break;
      case 'send_oct':
        out.push([name, c.stats.bytesSent]);
        break;
      case 'recv_cnt':
        out.push([name, c.stats.packetsReceived]);
        break;
      case 'recv_oct':
        out.push([name, c.stats.bytesReceived]);
        break;
      case 'send_pend':
        out.push([name, c.recovery.bytesInFlight]);
        break;
      default:
        return ['error', `unknown counter ${name}`];
    }
  }
  return ['ok', out];
}

// -------------------------------------------------------------------------------------------
// getopt / setopt

/** Settings a running connection can change (QUICER.md §1c "setopt(C, settings, …)"). */
function applyRuntimeSettings(conn: QuicConn, settings: Record<string, unknown>): void {
  // Validate against the same rules first (throws; nothing applied on error).
  const side = conn.side;
  const v = validateConnOpts({ alpn: conn.opts.alpn, ...settings }, { side, where: 'settings' });
  const c = conn.ec?.conn;
  for (const key of Object.keys(settings)) {
    switch (key) {
      case 'keep_alive_interval_ms':
        c?.setKeepAliveInterval(v.settings.keep_alive_interval_ms as number, nowMs());
        break;
      case 'peer_bidi_stream_count':
        c?.setPeerStreamLimit(true, v.settings.peer_bidi_stream_count as number);
        break;
      case 'peer_unidi_stream_count':
        c?.setPeerStreamLimit(false, v.settings.peer_unidi_stream_count as number);
        break;
      case 'alpn':
        break;
      default:
        if (!(key in MSQUIC_DEFAULTS)) throw new TypeError(`settings.${key}: not a setting`);
        throw new TypeError(`settings.${key}: cannot change on a running connection (it is sent in the transport parameters or fixed at start)`);
    }
    conn.runtimeSettings[key] = v.settings[key]!;
  }
  conn.ec?.flush();
}

/** The settings a connection reports (QUICER.md §0.6), with runtime changes. */
function settingsOf(conn: QuicConn): Record<string, number | boolean> {
  return { ...conn.opts.settings, ...conn.runtimeSettings };
}

/** quicer:getopt/2,3. */
export function getopt(h: QuicConn | QuicStrm | QuicListener, opt: string, level?: string): readonly ['ok', unknown] | readonly ['error', string] {
  if (h.kind === 'listener') {
    if (opt === 'settings') return ['ok', { ...h.opts.settings }];
    if (opt === 'alpn') return ['ok', h.opts.alpn];
    return ['error', 'not_supported'];
  }
  if (h.kind === 'stream') {
    switch (opt) {
      case 'stream_id':
        return h.id !== undefined ? ['ok', h.id] : ['error', 'invalid_state'];
      case 'active':
        return ['ok', h.active];
      case 'priority':
        return ['ok', h.opts.priority ?? 0x7fff];
      default:
        return ['error', 'not_supported'];
    }
  }
  const conn = h;
  const c = conn.ec?.conn;
  if (level === 'quic_tls' || opt === 'negotiated_alpn') {
    const a = c?.negotiatedAlpn;
    return a !== undefined ? ['ok', a] : ['error', 'not_found'];
  }
  const s = settingsOf(conn);
  switch (opt) {
    case 'settings':
      return ['ok', s];
    case 'local_bidi_stream_count':
      return c ? ['ok', Math.min(65535, c.streamsAvailable(true))] : ['error', 'invalid_state'];
    case 'local_unidi_stream_count':
      return c ? ['ok', Math.min(65535, c.streamsAvailable(false))] : ['error', 'invalid_state'];
    case 'custom_verify':
      return ['ok', conn.opts.customVerify];
    case 'datagram_send_enabled':
      return ['ok', (c?.maxDatagramPayload ?? 0) > 0];
    case 'datagram_receive_enabled':
      return ['ok', conn.opts.datagramReceiveEnabled];
    case 'remote_address':
      return c ? ['ok', { address: c.peerAddress.address, port: c.peerAddress.port }] : ['error', 'invalid_state'];
    case 'local_address':
      return conn.endpoint ? ['ok', conn.endpoint.address()] : ['error', 'invalid_state'];
    case 'resumption_ticket':
      return conn.lastTicket ? ['ok', conn.lastTicket] : ['error', 'not_found'];
    default:
      if (opt in s) return ['ok', s[opt]];
      return ['error', 'not_supported'];
  }
}

/** quicer:setopt/3,4. */
export function setopt(h: QuicConn | QuicStrm | QuicListener, opt: string, value: unknown): readonly ['ok'] | readonly ['error', string] {
  if (h.kind === 'stream') {
    switch (opt) {
      case 'active':
        try {
          h.setActive(validateActive('setopt', value));
        } catch {
          return ['error', 'param_error'];
        }
        return ['ok'];
      case 'priority': {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) return ['error', 'param_error'];
        (h.opts as { priority: number | undefined }).priority = value;
        if (h.id !== undefined) h.conn.ec?.conn.streamSetPriority(h.id, value);
        return ['ok'];
      }
      case 'stream_id':
      case 'ideal_send_buffer_size':
      case '0rtt_length':
        return ['error', 'not_supported'];
      default:
        return ['error', 'not_supported'];
    }
  }
  if (h.kind === 'listener') return ['error', 'not_supported'];
  const conn = h;
  switch (opt) {
    case 'settings':
      if (value === null || typeof value !== 'object') return ['error', 'invalid_parameter'];
      try {
        applyRuntimeSettings(conn, value as Record<string, unknown>);
      } catch {
        return ['error', 'invalid_parameter'];
      }
      return ['ok'];
    case 'custom_verify':
      if (typeof value !== 'boolean') return ['error', 'param_error'];
      if (conn.handshakeCompleted) return ['error', 'invalid_state'];
      (conn.opts as { customVerify: boolean }).customVerify = value;
      return ['ok'];
    case 'local_bidi_stream_count':
    case 'local_unidi_stream_count':
      return ['error', 'invalid_parameter'];
    default:
      return ['error', 'not_supported'];
  }
}
