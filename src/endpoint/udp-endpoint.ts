import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { CryptoBackend } from '../crypto/backend.js';
import { defaultCrypto } from '../crypto/index.js';
import { verifyCertificateChain } from '../tls/certificates.js';
import { createTicketSealer } from '../tls/session.js';
import { Connection } from '../transport/connection.js';
import { defaultTransportSettings, type ClientConnectionConfig, type ServerConnectionConfig, type TransportSettings } from '../transport/connection-config.js';
import type { ConnectionEvent, PathAddress } from '../transport/events.js';
import { HeaderStatus, PacketHeader, PacketType, parsePacketHeader } from '../transport/packet.js';
import { TokenKind, TokenProtector } from '../transport/token.js';
import { isSupportedVersion } from '../transport/version.js';
import { CidRouter, EndpointConnectionIds } from './cid-routing.js';
import { EndpointConnection } from './endpoint-connection.js';
import { retryPacket, statelessResetPacket, versionNegotiationPacket } from './stateless.js';

/** Server side of an endpoint: how to accept connections. */
export interface ServerOptions {
  tls: ServerConnectionConfig['tls'];
  transport?: Partial<TransportSettings>;
  /** Validate every new client address with a Retry first (RFC 9000 §8.1.2). */
  retry?: boolean;
  /** Key for Retry and NEW_TOKEN tokens (16 bytes; random by default). */
  tokenKey?: Uint8Array;
  /** How long a NEW_TOKEN stays valid (ms, default 24 h); Retry tokens live 10 s. */
  tokenLifetime?: number;
  /** Key for session tickets (32 bytes; random by default). Set `tls.ticketSealer` to share one across endpoints. */
  ticketKey?: Uint8Array;
  /** Refuse new connections (answered with CONNECTION_REFUSED) while this returns false. */
  accept?: (from: PathAddress) => boolean;
  /** Hold each new connection's handshake until `conn.releaseHandshake()` (quicer's handshake()). */
  holdHandshake?: boolean;
}

export interface EndpointOptions {
  /** Local address to bind (default '0.0.0.0', or '::' with `ipv6`). */
  host?: string;
  /** Local port (default 0 = ephemeral). */
  port?: number;
  ipv6?: boolean;
  crypto?: CryptoBackend;
  /** Transport settings for client connections (server ones come from `server.transport`). */
  transport?: Partial<TransportSettings>;
  /** Accept connections as a server with these options. */
  server?: ServerOptions;
  /** Length of the connection IDs this endpoint issues (default 8). */
  connectionIdLength?: number;
  /** Secret for stateless reset tokens (32 bytes; random by default). */
  resetKey?: Uint8Array;
  /** Socket buffer sizes in bytes (default 4 MiB each). */
  socketBufferSize?: number;
  /**
   * While no connection lives on the endpoint, its socket does not keep Node's event loop
   * alive (for client sockets shared by many connections: a script ends once its connections
   * are gone, without closing the socket). Default false.
   */
  unrefWhenIdle?: boolean;
  /** Called with transport trace events (qlog-like) of every connection. */
  trace?: (conn: EndpointConnection, name: string, data: Record<string, unknown>) => void;
}

/** Options for one client connection. */
export interface ConnectOptions {
  tls: ClientConnectionConfig['tls'];
  transport?: Partial<TransportSettings>;
  /** NEW_TOKEN from an earlier connection to this server. */
  token?: Uint8Array;
  version?: number;
}

/** The clock the endpoint gives connections: wall-clock milliseconds that never go backwards. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

const DATAGRAM_ROOM = 1500;
const POOL_CHUNK = 4 << 20;

/**
 * The largest UDP payload a path can carry when the OS tells us without probing: loopback
 * (65535-byte IP packets: 65507 bytes of UDP payload over IPv4, 65527 over IPv6). Other paths
 * start from the transport default and rely on PMTU discovery.
 */
export function knownPathMtuCeiling(address: string): number | undefined {
  if (address === '::1') return 65527;
  if (address.startsWith('127.') || address.startsWith('::ffff:127.')) return 65507;
  return undefined;
}

/**
 * Defaults that depend on the path and the socket: the PMTU search ceiling of a loopback path,
 * and receive windows no larger than the socket's receive buffer — like TCP's receive window,
 * flow-control credit is what keeps a fast sender from overrunning a slower receiver, and
 * credit beyond what the kernel can queue only turns into datagrams dropped at the socket.
 * Explicit settings win.
 */
function withPathDefaults(address: string, transport: Partial<TransportSettings> | undefined, recvBuffer: number): Partial<TransportSettings> {
  const t: Partial<TransportSettings> = { ...transport };
  const ceiling = knownPathMtuCeiling(address);
  if (ceiling !== undefined && t.mtuDiscoveryMax === undefined) t.mtuDiscoveryMax = ceiling;
  if (recvBuffer > 0) {
    const cap = Math.max(256 * 1024, Math.floor(recvBuffer * 0.75));
    const d = defaultTransportSettings();
    if (t.maxConnectionWindow === undefined) t.maxConnectionWindow = Math.min(d.maxConnectionWindow, cap);
    if (t.maxStreamWindow === undefined) t.maxStreamWindow = Math.min(d.maxStreamWindow, cap);
    if (t.initialMaxData === undefined) t.initialMaxData = Math.min(d.initialMaxData, t.maxConnectionWindow);
  }
  return t;
}
/** The longest delay setTimeout honours (ms). */
const MAX_TIMER_DELAY = 2 ** 31 - 1;
/** Received datagrams after which a connection sends (ACKs, data) without waiting for the end of the turn. */
const INLINE_FLUSH_EVERY = 16;
/** Datagrams one connection may send per flush before yielding to the event loop. */
const MAX_BURST = 64;

/**
 * A UDP endpoint: one `node:dgram` socket serving many QUIC connections (client, server or
 * both). It demultiplexes datagrams by destination connection ID, answers stateless packets
 * (Version Negotiation, Retry, Stateless Reset) without creating state, keeps one timer armed
 * at the earliest connection deadline, and writes each turn's datagrams in one batch after
 * the turn's input has been processed.
 */
export class QuicEndpoint {
  readonly crypto: CryptoBackend;
  private readonly socket: Socket;
  private readonly cids: EndpointConnectionIds;
  private readonly router = new CidRouter<EndpointConnection>();
  /** Client-chosen Initial DCIDs of server connections still in their handshake. */
  private readonly initialRouter = new CidRouter<EndpointConnection>();
  private readonly connections = new Set<EndpointConnection>();
  private readonly dirty = new Set<EndpointConnection>();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly header = new PacketHeader();
  private tokens: TokenProtector | undefined;
  private serverConfig: ServerConnectionConfig | undefined;
  private server: ServerOptions | undefined;
  /** New server connections are ignored while false (a locked listener: clients time out). */
  acceptingNew = true;
  private closed = false;
  /** The socket's receive buffer as the OS granted it (0 if unknown). */
  private readonly recvBufferSize: number;
  private pool: Uint8Array = new Uint8Array(POOL_CHUNK);
  private poolOffset = 0;
  /** Called for every connection a client opens to this (server) endpoint, right after its first Initial. */
  onConnection: ((conn: EndpointConnection) => void) | undefined;
  /** Counters. */
  readonly stats = { datagramsReceived: 0, datagramsSent: 0, statelessResets: 0, retries: 0, versionNegotiations: 0, dropped: 0 };

  private constructor(
    socket: Socket,
    readonly options: EndpointOptions,
  ) {
    this.socket = socket;
    let rb = 0;
    try {
      // Linux reports double the requested size (it counts bookkeeping overhead); halve it.
      rb = Math.floor(socket.getRecvBufferSize() / 2);
    } catch {
      rb = 0;
    }
    this.recvBufferSize = rb;
    this.crypto = options.crypto ?? defaultCrypto;
    this.cids = new EndpointConnectionIds(this.crypto, options.connectionIdLength ?? 8, options.resetKey);
    if (options.server) this.setServerOptions(options.server);
    this.updateRef();
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => {
      // ICMP errors (ECONNREFUSED etc.) surface here on some platforms: ignore, QUIC recovers by timeout.
    });
  }

  /** Binds a UDP socket and returns the endpoint. */
  static async bind(options: EndpointOptions = {}): Promise<QuicEndpoint> {
    const ipv6 = options.ipv6 ?? (options.host !== undefined && isIPv6(options.host));
    const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', ipv6Only: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: options.port ?? 0, address: options.host ?? (ipv6 ? '::' : '0.0.0.0'), exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const size = options.socketBufferSize ?? 4 * 1024 * 1024;
    try {
      socket.setRecvBufferSize(size);
      socket.setSendBufferSize(size);
    } catch {
      // The OS may cap buffer sizes; the defaults still work.
    }
    return new QuicEndpoint(socket, options);
  }

  /**
   * Sets (or replaces) how new connections are accepted: certificates, TLS and transport
   * settings. Established connections keep what they started with (a listener reload).
   * The token and ticket keys stay unless the new options bring their own.
   */
  setServerOptions(server: ServerOptions): void {
    if (server.tokenKey !== undefined || this.tokens === undefined) {
      this.tokens = new TokenProtector(this.crypto, server.tokenKey ?? randomKey(this.crypto, 16));
    }
    const tls = { ...server.tls };
    if (tls.ticketSealer === undefined) {
      tls.ticketSealer =
        server.ticketKey === undefined && this.serverConfig?.tls.ticketSealer !== undefined
          ? this.serverConfig.tls.ticketSealer
          : createTicketSealer(this.crypto, server.ticketKey ?? randomKey(this.crypto, 32));
    }
    this.server = server;
    this.serverConfig = {
      crypto: this.crypto,
      connectionIds: this.cids,
      tls,
      transport: server.transport ?? this.options.transport ?? {},
      tokens: this.tokens,
    };
  }

  /** The bound local address. */
  address(): PathAddress {
    const a = this.socket.address();
    return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  }

  /** Number of live connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Starts a client connection to `host:port` (an IP literal). */
  connect(host: string, port: number, options: ConnectOptions): EndpointConnection {
    if (this.closed) throw new TypeError('endpoint is closed');
    const family = isIPv6(host) ? 'IPv6' : 'IPv4';
    const peer: PathAddress = { address: host, port, family };
    let ec: EndpointConnection | undefined;
    const config: ClientConnectionConfig = {
      crypto: this.crypto,
      connectionIds: this.cids,
      tls: options.tls,
      transport: withPathDefaults(host, { ...this.options.transport, ...options.transport }, this.recvBufferSize),
      ...(options.token ? { token: options.token } : {}),
      ...(options.version !== undefined ? { version: options.version } : {}),
      ...(this.options.trace ? { trace: (n: string, d: Record<string, unknown>) => this.options.trace!(ec!, n, d) } : {}),
    };
    const conn = Connection.connect(config, peer, nowMs());
    ec = new EndpointConnection(this, conn);
    this.register(ec);
    this.markDirty(ec);
    return ec;
  }

  /** Closes every connection (application error 0) and then the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    const now = nowMs();
    for (const c of this.connections) c.conn.close(0, 'endpoint closing', now);
    this.flush();
    // Give CONNECTION_CLOSE frames a moment to leave before the socket goes.
    await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await new Promise<void>((r) => this.socket.close(() => r()));
  }

  /** With `unrefWhenIdle`, the socket holds the event loop only while connections live here. */
  private updateRef(): void {
    if (this.options.unrefWhenIdle !== true) return;
    if (this.connections.size > 0) this.socket.ref();
    else this.socket.unref();
  }

  private register(ec: EndpointConnection): void {
    this.connections.add(ec);
    if (this.connections.size === 1) this.updateRef();
    for (const cid of ec.conn.localConnectionIds) this.router.add(cid, ec);
  }

  /**
   * Moves a client connection from the endpoint it lives on to this one (a new local address:
   * active migration). Its connection IDs route here from now on; the old socket stops
   * serving it. The caller makes the connection send on the new path.
   */
  adopt(ec: EndpointConnection): void {
    if (this.closed) throw new TypeError('endpoint is closed');
    const old = ec.endpoint;
    if (old === this) return;
    old.forget(ec);
    ec.endpoint = this;
    this.register(ec);
    this.markDirty(ec);
  }

  /** Stops serving a connection that moved to another endpoint. */
  private forget(ec: EndpointConnection): void {
    this.connections.delete(ec);
    this.updateRef();
    this.dirty.delete(ec);
    for (const cid of ec.conn.localConnectionIds) this.router.remove(cid, ec);
    if (ec.initialDcid) this.initialRouter.remove(ec.initialDcid, ec);
  }

  /** @internal Something changed on a connection: flush it at the end of this turn. */
  markDirty(ec: EndpointConnection): void {
    this.dirty.add(ec);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushCallback);
    }
  }

  private readonly flushCallback = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    this.stats.datagramsReceived++;
    const datagram = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    const h = this.header;
    const st = parsePacketHeader(datagram, 0, this.cids.length, h);
    if (st === HeaderStatus.Truncated && h.dcidLength === 0) {
      this.stats.dropped++;
      return;
    }
    const dcid = h.dcid;
    let ec = this.router.get(dcid);
    if (ec === undefined && h.isLongHeader) ec = this.initialRouter.get(dcid);
    const from: PathAddress = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    const now = nowMs();
    if (ec === undefined) {
      ec = this.statelessOrAccept(datagram, h, st, from, now);
      if (ec === undefined) return;
    }
    ec.conn.receive(datagram, from, now);
    // Answer within the turn when many datagrams arrive at once (one poll can read dozens):
    // waiting for the end of the turn would send one ACK per burst and starve the peer's
    // ACK clock.
    if (++ec.receivedSinceFlush >= INLINE_FLUSH_EVERY) this.transmit(ec, now);
    this.markDirty(ec);
  }

  /** A datagram for no known connection: answer statelessly, or accept a new server connection. */
  private statelessOrAccept(datagram: Uint8Array, h: PacketHeader, st: HeaderStatus, from: PathAddress, now: number): EndpointConnection | undefined {
    const cfg = this.serverConfig;
    if (!h.isLongHeader) {
      // RFC 9000 §10.3.1: it may be a stateless reset from a peer that lost one of our connections.
      for (const ec of this.connections) {
        const p = ec.conn.peerAddress;
        if (p.port === from.port && p.address === from.address && ec.conn.isStatelessReset(datagram)) {
          ec.conn.receive(datagram, from, now);
          this.markDirty(ec);
          return undefined;
        }
      }
      // RFC 9000 §10.3: or a packet for a connection we lost: reset it.
      if (cfg !== undefined || this.connections.size > 0) this.sendStatelessReset(h.dcid, datagram.length, from);
      return undefined;
    }
    if (cfg === undefined || st === HeaderStatus.Truncated || !this.acceptingNew) {
      this.stats.dropped++;
      return undefined;
    }
    if (h.type === PacketType.UnknownVersion || !isSupportedVersion(h.version)) {
      // RFC 9000 §6.1: only datagrams large enough to be a client's first Initial get an answer.
      if (datagram.length >= 1200 && h.dcidLength >= 8) {
        this.stats.versionNegotiations++;
        this.sendRaw(versionNegotiationPacket(this.crypto, h.dcid, h.scid), from);
      }
      return undefined;
    }
    if (st !== HeaderStatus.Ok || h.type !== PacketType.Initial || datagram.length < 1200 || h.dcidLength < 8) {
      this.stats.dropped++;
      return undefined;
    }
    const server = this.server!;
    if (server.accept !== undefined && !server.accept(from)) {
      this.refuse(datagram, h, from, now);
      return undefined;
    }
    const addressKey = from.address;
    let originalDcid: Uint8Array = h.dcid.slice();
    let retrySourceCid: Uint8Array | undefined;
    let validated = false;
    if (h.tokenLength > 0 && this.tokens !== undefined) {
      const t = this.tokens.open(h.token, addressKey, now, server.tokenLifetime ?? 24 * 3600_000);
      if (t !== undefined && t.kind === TokenKind.Retry && now - t.issued <= 10_000) {
        // The Retry SCID must be what the client now uses as DCID.
        if (!bytesEqual(t.retrySourceCid, h.dcid)) {
          this.stats.dropped++;
          return undefined;
        }
        originalDcid = t.originalDcid;
        retrySourceCid = t.retrySourceCid;
        validated = true;
      } else if (t !== undefined && t.kind === TokenKind.NewToken) {
        validated = true;
      }
      // Anything else (expired, another server's, garbled) is ignored: RFC 9000 §8.1.3 lets the
      // server treat the client as unvalidated (and Retry it when configured to).
    }
    if (server.retry && !validated) {
      const newScid = this.cids.generate();
      const token = this.tokens!.seal(TokenKind.Retry, addressKey, now, h.dcid, newScid);
      this.stats.retries++;
      this.sendRaw(retryPacket(this.crypto, h.version, h.dcid, h.scid, newScid, token), from);
      return undefined;
    }
    let ec: EndpointConnection | undefined;
    const base: ServerConnectionConfig = { ...cfg, transport: withPathDefaults(from.address, cfg.transport, this.recvBufferSize) };
    const config: ServerConnectionConfig = this.options.trace
      ? { ...base, trace: (n: string, d: Record<string, unknown>) => this.options.trace!(ec!, n, d) }
      : base;
    const conn = Connection.accept(
      config,
      {
        originalDcid,
        initialDcid: h.dcid.slice(),
        ...(retrySourceCid ? { retrySourceCid } : {}),
        addressValidated: validated,
        localCid: this.cids.generate(),
        version: h.version,
        ...(server.holdHandshake ? { holdHandshake: true } : {}),
      },
      from,
      now,
    );
    ec = new EndpointConnection(this, conn);
    ec.initialDcid = h.dcid.slice();
    this.register(ec);
    this.initialRouter.add(ec.initialDcid, ec);
    this.onConnection?.(ec);
    return ec;
  }

  /** Answers an Initial with CONNECTION_REFUSED from a throwaway server connection. */
  private refuse(datagram: Uint8Array, h: PacketHeader, from: PathAddress, now: number): void {
    const conn = Connection.accept(
      this.serverConfig!,
      { originalDcid: h.dcid.slice(), initialDcid: h.dcid.slice(), addressValidated: false, localCid: this.cids.generate(), version: h.version },
      from,
      now,
    );
    conn.receive(datagram, from, now);
    conn.close(0x2, 'connection refused', now, { application: false });
    const buf = new Uint8Array(DATAGRAM_ROOM);
    for (let i = 0; i < 4; i++) {
      const n = conn.pollTransmitInto(buf, now);
      if (n === 0) break;
      this.sendRaw(buf.slice(0, n), from);
    }
  }

  private sendStatelessReset(dcid: Uint8Array, triggerLength: number, to: PathAddress): void {
    if (dcid.length !== this.cids.length) return;
    const pkt = statelessResetPacket(this.crypto, this.cids.resetToken(dcid), triggerLength);
    if (pkt === undefined) return;
    this.stats.statelessResets++;
    this.sendRaw(pkt, to);
  }

  private sendRaw(data: Uint8Array, to: PathAddress): void {
    this.stats.datagramsSent++;
    this.socket.send(data, to.port, to.address);
  }

  /** Sends everything dirty connections have, handles their events, re-arms the timer. */
  private flush(): void {
    if (this.closed) return;
    const now = nowMs();
    let again = false;
    for (const ec of this.dirty) {
      this.dirty.delete(ec);
      if (this.transmit(ec, now)) again = true;
      this.dispatch(ec, now);
    }
    if (again) {
      // A connection still had data after its burst: continue on the next turn, after I/O.
      for (const ec of this.connections) if (ec.pendingBurst) this.markDirty(ec);
    }
    this.armTimer();
  }

  /** Returns true when the connection stopped at the burst limit with more to send. */
  private transmit(ec: EndpointConnection, now: number): boolean {
    const conn = ec.conn;
    ec.pendingBurst = false;
    ec.receivedSinceFlush = 0;
    for (let i = 0; i < MAX_BURST; i++) {
      const room = conn.datagramRoom;
      if (this.poolOffset + room > this.pool.length) {
        // Datagrams handed to the socket keep views of the old chunk until sent.
        this.pool = new Uint8Array(POOL_CHUNK);
        this.poolOffset = 0;
      }
      const view = this.pool.subarray(this.poolOffset, this.poolOffset + room);
      const n = conn.pollTransmitInto(view, now);
      if (n === 0) return false;
      const to = conn.transmitAddress;
      this.socket.send(view.subarray(0, n), to.port, to.address);
      this.poolOffset += (n + 7) & ~7;
      this.stats.datagramsSent++;
    }
    ec.pendingBurst = true;
    return true;
  }

  /** Drains a connection's events: routing changes and built-in certificate checks here, the rest to its owner. */
  private dispatch(ec: EndpointConnection, now: number): void {
    const conn = ec.conn;
    for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) {
      switch (e.type) {
        case 'connectionIdAdded':
          this.router.add(e.cid, ec);
          break;
        case 'connectionIdRetired':
          this.router.remove(e.cid, ec);
          break;
        case 'handshakeConfirmed':
          if (ec.initialDcid) {
            this.initialRouter.remove(ec.initialDcid, ec);
            ec.initialDcid = undefined;
          }
          ec.deliver(e);
          break;
        case 'peerCertificates':
          if (e.awaitingVerdict && e.verification === 'builtin' && e.request !== undefined) this.verifyBuiltin(ec, e);
          ec.deliver(e);
          break;
        case 'closed':
          this.connections.delete(ec);
          this.updateRef();
          if (ec.initialDcid) this.initialRouter.remove(ec.initialDcid, ec);
          for (const cid of conn.localConnectionIds) this.router.remove(cid, ec);
          ec.deliver(e);
          break;
        default:
          ec.deliver(e);
      }
    }
    void now;
  }

  private verifyBuiltin(ec: EndpointConnection, e: Extract<ConnectionEvent, { type: 'peerCertificates' }>): void {
    const req = e.request!;
    verifyCertificateChain(e.chain, {
      trusted: req.trusted,
      now: req.now,
      purpose: req.purpose,
      ...(req.serverName !== undefined ? { serverName: req.serverName } : {}),
    }).then(
      (verdict) => {
        ec.conn.completeCertificateVerification(verdict, nowMs());
        this.markDirty(ec);
      },
      (err: unknown) => {
        ec.conn.completeCertificateVerification({ ok: false, alert: 80, reason: `certificate verification failed: ${String(err)}` }, nowMs());
        this.markDirty(ec);
      },
    );
  }

  private armTimer(): void {
    let t = Infinity;
    for (const ec of this.connections) {
      const d = ec.conn.nextDeadline();
      if (d !== undefined && d < t) t = d;
    }
    if (t === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = t;
    if (t === Infinity) return;
    // setTimeout takes at most 2^31 - 1 ms (longer delays fire at once, in a loop): a far
    // deadline (e.g. an idle timeout of years) wakes up early, finds nothing due, and re-arms.
    const delay = Math.min(Math.max(0, t - nowMs()), MAX_TIMER_DELAY);
    this.timer = setTimeout(this.timerCallback, Math.ceil(delay));
  }

  private readonly timerCallback = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = nowMs();
    for (const ec of this.connections) {
      const d = ec.conn.nextDeadline();
      if (d !== undefined && d <= now) {
        ec.conn.handleTimeout(now);
        this.dirty.add(ec);
      }
    }
    this.flush();
  };
}

function randomKey(crypto: CryptoBackend, n: number): Uint8Array {
  const k = new Uint8Array(n);
  crypto.randomFill(k);
  return k;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
