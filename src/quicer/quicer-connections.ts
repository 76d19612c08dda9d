/**
 * quicer's connection functions: client connect (blocking and async), open_connection,
 * listen / accept / handshake on the server side, and connection shutdown.
 */
import { isIP } from 'node:net';
import { QuicConn } from './conn-handle.js';
import { QuicListener, type ListenOn } from './listener.js';
import { parseLocalAddress, validateConnOpts, type ConnOptions } from './options.js';
import type { QuicEndpoint } from '../endpoint/udp-endpoint.js';
import { Inbox, ownerOf, sleep, type Process } from './process.js';
import { globalRegistration, type Registration } from './registration.js';
import { clientTls } from './tls-config.js';
import type { TransportShutdownProps } from './status.js';
import { applyRuntimeSettings } from './quicer-settings.js';

/**
 * The peer's certificates as quicer gives them with `custom_verify`: `[leafDer, chainDer]` (the
 * chain starts with the leaf).
 */
export type Certs = readonly [Uint8Array, readonly Uint8Array[]];

/**
 * quicer:open_connection/0,1: a client connection handle that is not started yet, owned by
 * `owner` (default: the caller). Set pre-start options on it with `setopt`, then start it by
 * passing it as `conn_opts.handle` to `connect` / `asyncConnect` (its options are then the
 * connect's, over the presets).
 */
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
  conn.registration = registration;
  if (opts.localAddress !== undefined) conn.releaseEndpoint = () => void registration.release(ep);
  conn.closeHooks.push(() => {
    registration.connectionCount--;
  });
  return conn;
}

async function resolve(host: string): Promise<string> {
  const { lookup } = await import('node:dns/promises');
  return (await lookup(host)).address;
}

/** purequic's extra arguments of the connect functions. */
export interface ConnectOptions {
  /** The process that receives the connection's events (default: the caller, else a fresh `Inbox`). */
  owner?: Process;
  /** Where the connection lives (default: the global registration and its shared UDP sockets). */
  registration?: Registration;
}

/**
 * quicer:connect/4: connects to `host:port` (an IP literal or a name) and waits for the
 * handshake. `handshake_idle_timeout_ms` defaults to `timeoutMs`, so a connect that does not
 * complete ends as a transport shutdown, as in quicer. Resolves `['ok', conn]`;
 * `['ok', conn, [cert, chain]]` with `custom_verify` when the certificate arrived first (answer
 * it with `completeCertValidation`); `['error', 'transport_down', {status, error}]` (e.g.
 * `connection_idle`, `alpn_neg_failure` / 376, `cert_untrusted_root`); `['error', 'closed']`
 * when the peer closed it; `['error', message]` when no socket could be bound. Bad options
 * throw a TypeError / RangeError before anything is sent.
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

/**
 * quicer:async_connect/3: starts a client connection and resolves `['ok', conn]` at once; the
 * owner then gets `['quic', 'connected', conn, {is_resumed, alpns}]` or
 * `['quic', 'transport_shutdown', conn, {status, error}]`. `['error', message]` when no socket
 * could be bound. Bad options throw a TypeError / RangeError before anything is sent.
 */
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
 * quicer:shutdown_connection/1..4: closes with application error `errorCode` (flag
 * `ConnShutdownFlag.SILENT`: no CONNECTION_CLOSE is sent) and waits until the connection is
 * closed: `['ok']`, or `['error', 'timeout']` after `timeoutMs`. Idempotent: a closed
 * connection answers `['ok']` at once (QUICER.md §5.16).
 */
export async function shutdownConnection(conn: QuicConn, flags = 0, errorCode: number | bigint = 0, timeoutMs = 5000): Promise<readonly ['ok'] | readonly ['error', 'timeout']> {
  if (conn.closed || conn.ec === undefined) return ['ok'];
  conn.shutdown(flags, errorCode);
  const done = conn.ec.closed().then(() => ['ok'] as const);
  return timeoutMs === Infinity ? done : Promise.race([done, sleep(timeoutMs).then(() => ['error', 'timeout'] as const)]);
}

/**
 * quicer:async_shutdown_connection/3: starts the close (as `shutdownConnection`) and returns
 * `['ok']` at once; the owner gets `closed` when it is done.
 */
export function asyncShutdownConnection(conn: QuicConn, flags = 0, errorCode: number | bigint = 0): readonly ['ok'] {
  conn.shutdown(flags, errorCode);
  return ['ok'];
}

/**
 * Moves a started client connection to a new local address (quicer's
 * `setopt(C, local_address, Addr)` after the handshake, QUICER.md §1a): binds the address,
 * sends from there (the server validates the new path and reports `peer_address_changed`),
 * and tells the owner `local_address_changed` with the new "IP:Port". Resolves `['ok']`, or
 * `['error', 'badarg']` (not an address), `['error', 'invalid_state']` (a server connection,
 * or before the handshake is confirmed), `['error', 'address_in_use']`, `['error', 'closed']`.
 */
export async function migrateLocalAddress(conn: QuicConn, address: unknown): Promise<readonly ['ok'] | readonly ['error', string]> {
  const checked = checkMigration(conn, address);
  if (checked[0] === 'error') return checked;
  const local = checked[1];
  const ec = conn.ec!;
  const registration = conn.registration ?? globalRegistration;
  let ep: QuicEndpoint;
  try {
    ep = await registration.clientEndpoint(ec.conn.peerAddress.address, local);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return ['error', code === 'EADDRINUSE' ? 'address_in_use' : code === 'EADDRNOTAVAIL' ? 'invalid_parameter' : (e as Error).message];
  }
  if (conn.closed) {
    await registration.release(ep);
    return ['error', 'closed'];
  }
  conn.moveTo(ep, () => void registration.release(ep));
  return ['ok'];
}

/** What a migration needs, checked synchronously: the parsed address, or quicer's error. */
function checkMigration(conn: QuicConn, address: unknown): readonly ['ok', { address: string | undefined; port: number }] | readonly ['error', string] {
  let local: { address: string | undefined; port: number };
  try {
    local = parseLocalAddress('setopt', 'local_address', address);
  } catch {
    return ['error', 'badarg'];
  }
  const ec = conn.ec;
  if (ec === undefined || conn.closed) return ['error', 'closed'];
  if (conn.side !== 'client' || !ec.conn.handshakeConfirmed) return ['error', 'invalid_state'];
  return ['ok', local];
}

/**
 * The synchronous form for `setopt(C, local_address, Addr)` on a started connection: checks
 * what can be checked at once (`badarg`, `invalid_state`, `closed`) and starts the move; the
 * owner gets `local_address_changed` once the new socket is bound. A bind that fails later
 * (address in use) leaves the connection where it was, without the event; use
 * `migrateLocalAddress` to learn that error.
 */
export function startLocalMigration(conn: QuicConn, address: unknown): readonly ['ok'] | readonly ['error', string] {
  const checked = checkMigration(conn, address);
  if (checked[0] === 'error') return checked;
  void migrateLocalAddress(conn, address);
  return ['ok'];
}

// -------------------------------------------------------------------------------------------
// Server

/**
 * quicer:listen/2: a listener on `on` with the listener options `lopts` (`alpn`,
 * `certfile`/`keyfile` or `cert`/`key`, and any conn_opts setting for the connections it
 * accepts). Resolves `['ok', listener]`, `['error', 'address_in_use']` or `['error', message]`
 * when the address cannot be bound. Bad options throw a TypeError / RangeError naming the key
 * before anything is bound. Connections reach processes queued with `asyncAccept` / `accept`
 * (or a `QuicListenerServer`'s acceptors); with none queued a client is refused.
 */
export async function listen(on: ListenOn, lopts: Record<string, unknown>): Promise<readonly ['ok', QuicListener] | readonly ['error', unknown]> {
  try {
    return ['ok', await QuicListener.open(on, lopts)];
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    return ['error', code === 'EADDRINUSE' ? 'address_in_use' : (e as Error).message];
  }
}

/**
 * quicer:close_listener/1: no new connections (queued acceptors get
 * `['quic', 'listener_stopped', l, undefined]`); established ones go on. `['ok']`.
 */
export async function closeListener(l: QuicListener): Promise<readonly ['ok']> {
  await l.close();
  return ['ok'];
}

/**
 * quicer:async_accept/2: queues `acceptor` (default: the caller) for the next connection, which
 * arrives as `['quic', 'new_conn', conn, props]` and waits for `handshake`. `['ok', l]`.
 */
export function asyncAccept(l: QuicListener, acceptor?: Process): readonly ['ok', QuicListener] {
  l.addAcceptor(ownerOf(acceptor));
  return ['ok', l];
}

/**
 * quicer:accept/3: waits for the next connection and gives it to `owner` (default: the
 * caller): `['ok', conn]` (its handshake still waits for `handshake`), or
 * `['error', 'timeout']`.
 */
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
 * quicer:async_handshake/1,2: continues a server connection held since `new_conn`; the owner
 * gets `connected` when it completes. Settings in `connOpts` that a running connection can
 * change are applied first (an invalid map changes nothing: `['error', 'param_error']`).
 * `['ok']`, or `['error', 'closed']` when the connection is gone.
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

/**
 * quicer:handshake/1,2,3: continues a held server connection (as `asyncHandshake`) and waits
 * for the handshake: `['ok', conn]`, `['ok', conn, [cert, chain]]` with `custom_verify` when
 * the client's certificate arrived first, `['error', 'timeout']`, `['error', 'closed']`, or
 * `['error', 'param_error']` for a bad `connOpts`.
 */
export async function handshake(conn: QuicConn, connOpts?: Record<string, unknown>, timeoutMs = 5000): Promise<readonly ['ok', QuicConn] | readonly ['ok', QuicConn, Certs] | readonly ['error', unknown]> {
  const r = asyncHandshake(conn, connOpts);
  if (r[0] === 'error') return r;
  const outcome = await Promise.race([conn.awaitHandshake(), sleep(timeoutMs).then(() => undefined)]);
  if (outcome === undefined) return ['error', 'timeout'];
  if (outcome.kind === 'connected') return conn.certsFirst ? ['ok', conn, conn.certsFirst] : ['ok', conn];
  return ['error', 'closed'];
}

