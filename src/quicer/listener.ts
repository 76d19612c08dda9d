/**
 * A quicer listener (`quicer:listen/2`): a UDP endpoint accepting QUIC connections with the
 * listener options (ALPN, certificates, settings). Every new connection goes to the first
 * queued acceptor process (`quicer:async_accept`) as `['quic', 'new_conn', Conn, Props]` and
 * waits there until that process calls `handshake`; with no acceptor queued the client is
 * refused (CONNECTION_REFUSED). `lock`/`unlock` stop and restart accepting; `reload` swaps
 * certificates and options for new connections without touching established ones.
 */
import { QuicEndpoint, type ServerOptions } from '../endpoint/udp-endpoint.js';
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import { isIPv6 } from 'node:net';
import { QuicConn } from './conn-handle.js';
import { parseLocalAddress, validateConnOpts, type ConnOptions } from './options.js';
import { Process } from './process.js';
import { globalRegistration } from './registration.js';
import { serverTls } from './tls-config.js';

/** Owner of a server connection until an acceptor takes it: its messages are dropped. */
class Unclaimed extends Process {
  protected handleMessage(): void {}
}
const UNCLAIMED = new Unclaimed();

/** Where to listen (quicer's `listen_on()`): a port (all IPv4 addresses), or `"ip:port"` / `"[v6]:port"`. */
export type ListenOn = number | string;

function parseListenOn(on: unknown): { address: string; port: number } {
  const a = parseLocalAddress('listen', 'listen_on', on);
  return { address: a.address ?? '0.0.0.0', port: a.port };
}

/** The endpoint server options for listener options `o`. */
function serverOptions(o: ConnOptions, accept: () => boolean): ServerOptions {
  return {
    tls: serverTls(o),
    transport: { ...o.transport, maxTlsSendBuffer: o.tlsServerMaxSendBuffer },
    holdHandshake: true,
    accept,
  };
}

/**
 * quicer's `listener_handle()`: what `quicer.listen` returns. Acceptor processes queue on it
 * (`quicer.asyncAccept`, or a `QuicListenerServer`'s pool); each new connection goes to the
 * first live one as `['quic', 'new_conn', conn, props]` and is held there until that process
 * calls `quicer.handshake` / `quicer.asyncHandshake`.
 */
export class QuicListener {
  /** Tells a listener handle from a connection or stream handle. */
  readonly kind = 'listener' as const;
  /** The endpoint accepting new connections (older endpoints stay until their connections end). */
  endpoint: QuicEndpoint;
  /** The validated listener options new connections get. */
  opts: ConnOptions;
  /** Raw listener options (kept for `get_conf`-like reads and reloads). */
  rawOpts: Record<string, unknown>;
  /** The address asked for (port 0 stays 0 here; `address()` gives the bound port). */
  listenOn: { address: string; port: number };
  private readonly acceptors: Process[] = [];
  /** `lock` was called: new connections are not accepted until `unlock`. */
  locked = false;
  /** `close` or `shutdown` was called. */
  closed = false;
  /** Connections accepted on this listener and not closed yet. */
  readonly connections = new Set<QuicConn>();
  private readonly retired = new Set<QuicEndpoint>();

  private constructor(endpoint: QuicEndpoint, opts: ConnOptions, raw: Record<string, unknown>, on: { address: string; port: number }) {
    this.endpoint = endpoint;
    this.opts = opts;
    this.rawOpts = raw;
    this.listenOn = on;
    endpoint.onConnection = (ec) => this.onConnection(ec);
  }

  /**
   * Validates the listener options (a TypeError / RangeError naming the key on a bad one; a
   * `conn_acceptors` key is ignored here) and binds the UDP socket. `quicer.listen` wraps this
   * with quicer's result terms.
   */
  static async open(on: ListenOn, lopts: Record<string, unknown>): Promise<QuicListener> {
    const where = 'listen_opts';
    const { conn_acceptors: _n, ...rest } = lopts;
    void _n;
    const o = validateConnOpts(rest, { side: 'server', where, requireCertificate: true });
    const addr = parseListenOn(on);
    let l: QuicListener | undefined;
    const ep = await QuicEndpoint.bind({
      host: addr.address,
      port: addr.port,
      ipv6: isIPv6(addr.address),
      server: serverOptions(o, () => l !== undefined && l.canAccept()),
    });
    l = new QuicListener(ep, o, { ...lopts }, addr);
    return l;
  }

  /** The address and port the socket is bound to (the one clients connect to). */
  address(): { address: string; port: number } {
    return this.endpoint.address();
  }

  /**
   * Queues `p` to receive the next connection (quicer:async_accept/2). Dead processes are
   * skipped when a connection arrives.
   */
  addAcceptor(p: Process): void {
    this.acceptors.push(p);
  }

  /** How many live acceptors are queued (a connection arriving with none is refused). */
  get acceptorCount(): number {
    let n = 0;
    for (const a of this.acceptors) if (a.alive) n++;
    return n;
  }

  private canAccept(): boolean {
    if (this.closed || this.locked) return false;
    return this.acceptors.some((a) => a.alive);
  }

  /** The first live queued acceptor, taken off the queue. */
  private takeAcceptor(): Process | undefined {
    while (this.acceptors.length > 0) {
      const a = this.acceptors.shift()!;
      if (a.alive) return a;
    }
    return undefined;
  }

  /**
   * A client's first Initial arrived. The acceptor is chosen once its ClientHello proved
   * acceptable (as MsQuic raises NEW_CONNECTION after the ClientHello): a ClientHello that
   * fails (no ALPN in common) leaves the acceptor queued for the next client.
   */
  private onConnection(ec: EndpointConnection): void {
    const conn = new QuicConn('server', this.opts, UNCLAIMED);
    conn.pickOwner = () => (this.closed || this.locked ? undefined : this.takeAcceptor());
    conn.attach(ec, this.endpoint);
    this.connections.add(conn);
    // Server connections count in the registration too (MsQuic counts every connection of a registration).
    const registration = globalRegistration;
    conn.registration = registration;
    registration.connectionCount++;
    conn.closeHooks.push(() => {
      this.connections.delete(conn);
      registration.connectionCount--;
    });
  }

  /** Stops accepting new connections (clients time out); established ones go on (quicer_listener:lock). */
  lock(): void {
    this.locked = true;
    this.endpoint.acceptingNew = false;
  }

  /** Accepts again with the stored options (quicer_listener:unlock). */
  unlock(): void {
    this.locked = false;
    this.endpoint.acceptingNew = true;
  }

  /**
   * New certificates and options for new connections (quicer_listener:reload): validated first
   * (a bad map changes nothing and throws); established connections keep what they have. With
   * `on`, new connections are accepted on that address instead (the old socket stays until its
   * connections end).
   */
  async reload(lopts: Record<string, unknown>, on?: ListenOn): Promise<void> {
    const { conn_acceptors: _n, ...rest } = lopts;
    void _n;
    const o = validateConnOpts(rest, { side: 'server', where: 'listen_opts', requireCertificate: true });
    if (on !== undefined) {
      const addr = parseListenOn(on);
      const ep = await QuicEndpoint.bind({ host: addr.address, port: addr.port, ipv6: isIPv6(addr.address), server: serverOptions(o, () => this.canAccept()) });
      const old = this.endpoint;
      old.acceptingNew = false;
      this.retireWhenIdle(old);
      ep.onConnection = (ec) => this.onConnection(ec);
      this.endpoint = ep;
      this.listenOn = addr;
      if (this.locked) ep.acceptingNew = false;
    } else {
      this.endpoint.setServerOptions(serverOptions(o, () => this.canAccept()));
    }
    this.opts = o;
    this.rawOpts = { ...lopts };
  }

  private retireWhenIdle(ep: QuicEndpoint): void {
    this.retired.add(ep);
    const check = (): void => {
      if (ep.connectionCount === 0) {
        this.retired.delete(ep);
        void ep.close();
      } else setTimeout(check, 200).unref();
    };
    check();
  }

  /** Stops the listener: no new connections; the socket closes once established ones end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endpoint.acceptingNew = false;
    for (const a of this.acceptors.splice(0)) a.send(['quic', 'listener_stopped', this, undefined]);
    this.retireWhenIdle(this.endpoint);
  }

  /** Closes the listener and every connection on it at once. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const ep of [this.endpoint, ...this.retired]) await ep.close();
    this.retired.clear();
  }
}
