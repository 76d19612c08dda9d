/**
 * The connection handle of the quicer layer (quicer's `connection_handle()`): a connection on
 * a UDP endpoint, owned by a process that receives its events as quicer messages
 * (`['quic', Event, conn, Props]`). It plays the part of quicer's NIF: it translates the
 * transport's events, hands incoming streams to queued acceptors or (as passive orphans) to
 * the owner, and shuts the connection down when its owner dies (application error 0,
 * QUICER.md §0.5).
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { QuicEndpoint } from '../endpoint/udp-endpoint.js';
import type { ConnectionEvent } from '../transport/events.js';
import type { ConnOptions, StreamOptions } from './options.js';
import type { ExitReason, Process } from './process.js';
import { transportShutdownProps, type TransportShutdownProps } from './status.js';
import type { NewConnProps } from './connection.js';
import type { Registration } from './registration.js';
import { settlePeerCertificate } from './tls-config.js';
import { QuicStrm } from './stream-handle.js';
import { concatBytes } from '../util/bytes.js';

/** How a handshake ended, for callers that wait for it. */
export type HandshakeOutcome =
  | { kind: 'connected' }
  | { kind: 'transport_down'; props: TransportShutdownProps }
  | { kind: 'closed' };


/** CONNECTION_REFUSED (RFC 9000 §20.1). */
const TRANSPORT_CONNECTION_REFUSED = 0x2;

/** Connection shutdown flags (QUICER.md §3f). */
export const ConnShutdownFlag = { NONE: 0, SILENT: 1 } as const;

/** quicer's connection event mask bits. */
export const ConnEventMask = { NST: 0x1, NO_STREAMS_AVAILABLE: 0x2 } as const;

/** "IP:Port" (IPv6 in brackets), as quicer formats addresses. */
export function formatAddress(a: { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** A process waiting for a peer stream (quicer's async_accept_stream). */
interface StreamAcceptor {
  proc: Process;
  opts: StreamOptions;
}

/** Orphan streams are owned by the connection owner and start passive (QUICER.md §2a new_stream). */
const ORPHAN_OPTS: StreamOptions = { active: false, openFlag: 0, startFlag: 0, eventMask: 0, disableFpbuffer: false, priority: undefined, app: {} };

/**
 * quicer's `connection_handle()`: what `connect`, `asyncConnect`, `accept` and the `new_conn` /
 * `connected` events give, and what quicer's connection functions (`handshake`, `startStream`,
 * `shutdownConnection`, `getopt`, `peername`, …) take. Its owner process receives the connection's
 * events; when the owner ends, the connection is shut down with application error 0. Applications
 * read its fields but change it only through those functions.
 */
export class QuicConn {
  /** Tells a connection handle from a stream or listener handle. */
  readonly kind = 'connection' as const;
  /** The endpoint connection once started (undefined for a handle opened but not started). */
  ec: EndpointConnection | undefined;
  /** The endpoint it lives on (a dedicated client endpoint is released when the connection ends). */
  endpoint: QuicEndpoint | undefined;
  /** The process that receives this connection's events. */
  owner: Process;
  private removeOwnerHook: () => void;
  /** Open streams of this connection by stream ID. */
  readonly streams = new Map<number, QuicStrm>();
  /** Local streams waiting for the peer's stream credit (MsQuic queues them). */
  readonly queuedStreams: QuicStrm[] = [];
  private readonly acceptors: StreamAcceptor[] = [];
  /** The last resumption ticket (kept even when nst_received is masked out). */
  lastTicket: Uint8Array | undefined;
  /** The peer's certificate chain (leaf first) once received. */
  peerChain: readonly Uint8Array[] | undefined;
  /** The handshake completed (`connected` was sent). */
  handshakeCompleted = false;
  /** The session was resumed from a ticket. */
  isResumed = false;
  /** The connection is closed (`closed` was sent); starting streams and sending then answer `['error', 'closed']`. */
  closed = false;
  /** Our application asked to close (quicer's is_app_closing). */
  appClosing = false;
  /** Resumption application data the server stored in the ticket (server side, on resumption). */
  resumptionData: Uint8Array | undefined;
  /** Settings changed at runtime with setopt (getopt reports them). */
  readonly runtimeSettings: Record<string, number | boolean> = {};
  /** Runs once the connection is closed. */
  readonly closeHooks: Array<() => void> = [];
  /** The `new_conn` props once the ClientHello arrived (server). */
  newConnProps: NewConnProps | undefined;
  /**
   * Server: picks the owner (a queued acceptor) when a valid ClientHello arrives; undefined
   * from it refuses the connection (CONNECTION_REFUSED). Set by the listener.
   */
  pickOwner: (() => Process | undefined) | undefined;
  /** How the handshake ended, once it did (for connect/handshake callers). */
  private outcome: HandshakeOutcome | undefined;
  private readonly outcomeWaiters: Array<(o: HandshakeOutcome) => void> = [];
  /** The certificate event arrived before the handshake completed (quicer's connect/4 returns it). */
  certsFirst: readonly [Uint8Array, readonly Uint8Array[]] | undefined;

  constructor(
    readonly side: 'client' | 'server',
    readonly opts: ConnOptions,
    owner: Process,
  ) {
    this.owner = owner;
    this.removeOwnerHook = owner.onExitHook((r) => this.ownerDown(r));
  }

  /** Binds the handle to its transport connection and starts translating its events. */
  attach(ec: EndpointConnection, endpoint: QuicEndpoint): void {
    this.ec = ec;
    this.endpoint = endpoint;
    // max_operations_per_drain: messages the owning process handles per turn before yielding (MsQuic's MaxOperationsPerDrain).
    this.owner.messagesPerTurn = this.opts.maxOperationsPerDrain;
    ec.setEventHandler((e) => this.onEvent(e));
  }

  /** The registration the connection counts in (client endpoints come from it). */
  registration: Registration | undefined;
  /** Gives the endpoint back when the connection no longer uses it (a client's dedicated socket). */
  releaseEndpoint: (() => void) | undefined;

  /**
   * Client: moves the connection to `to`, a socket bound to another local address (quicer's
   * `setopt(C, local_address, Addr)` on a started connection). The next packets leave from
   * there with a fresh connection ID (RFC 9000 §9.5) and a PING, so the server validates the
   * new path and follows (its owner gets `peer_address_changed`); the owner here gets
   * `local_address_changed`. The caller checked that the handshake is confirmed.
   */
  moveTo(to: QuicEndpoint, release: (() => void) | undefined): void {
    const ec = this.ec;
    if (ec === undefined) throw new TypeError('moveTo: the connection was not started');
    const previousRelease = this.releaseEndpoint;
    to.adopt(ec);
    this.endpoint = to;
    this.releaseEndpoint = release;
    const c = ec.conn;
    // Transport internals: no public migration call exists in the transport yet.
    if (c.peerCids.count >= 2) c.peerCids.rotate();
    c.pingPending = true;
    ec.flush();
    previousRelease?.();
    this.notify('local_address_changed', formatAddress(to.address()));
  }

  /** Changes the owner (quicer's controlling_process): the old owner's death no longer matters (QUICER.md §5.17). */
  setOwner(p: Process): void {
    this.removeOwnerHook();
    this.owner = p;
    if (this.ec !== undefined) p.messagesPerTurn = (this.runtimeSettings.max_operations_per_drain as number | undefined) ?? this.opts.maxOperationsPerDrain;
    this.removeOwnerHook = p.onExitHook((r) => this.ownerDown(r));
  }

  /** Queues a process to receive the next peer-initiated stream. */
  addStreamAcceptor(proc: Process, opts: StreamOptions): void {
    this.acceptors.push({ proc, opts });
  }

  private takeAcceptor(): StreamAcceptor | undefined {
    while (this.acceptors.length > 0) {
      const a = this.acceptors.shift()!;
      if (a.proc.alive) return a; // a dead acceptor: the stream goes on (QUICER.md §5.3)
    }
    return undefined;
  }

  /** Resolves once the handshake completed or the connection ended (for the blocking connect/handshake). */
  awaitHandshake(): Promise<HandshakeOutcome> {
    if (this.outcome !== undefined) return Promise.resolve(this.outcome);
    return new Promise((resolve) => this.outcomeWaiters.push(resolve));
  }

  private settle(o: HandshakeOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = o;
    for (const w of this.outcomeWaiters.splice(0)) w(o);
  }

  /** Sends `['quic', event, conn, props]` to the owner. */
  notify(event: string, props: unknown): void {
    this.owner.send(['quic', event, this, props]);
  }

  /** The transport's events, as quicer messages. */
  onEvent(e: ConnectionEvent): void {
    switch (e.type) {
      case 'clientHello':
        if (this.side === 'server' && this.newConnProps === undefined && this.ec !== undefined && this.endpoint !== undefined) {
          const c = this.ec.conn;
          // A ClientHello the handshake already failed on (no ALPN in common, …) never reaches
          // an acceptor: MsQuic raises NEW_CONNECTION only for a ClientHello it accepted.
          if (c.state === 'closing' || c.state === 'draining' || c.state === 'closed' || c.negotiatedAlpn === undefined) return;
          if (this.pickOwner !== undefined) {
            const owner = this.pickOwner();
            this.pickOwner = undefined;
            if (owner === undefined) {
              // No acceptor left (they raced away since the Initial was let in): refuse.
              this.ec.close(TRANSPORT_CONNECTION_REFUSED, 'no acceptor', { application: false });
              return;
            }
            this.setOwner(owner);
          }
          this.newConnProps = {
            version: c.version.version,
            local_addr: formatAddress(this.endpoint.address()),
            remote_addr: formatAddress(c.peerAddress),
            server_name: e.serverName,
            alpns: c.negotiatedAlpn,
            client_alpns: e.alpn,
            crypto_buffer: concatBytes(...c.clientHelloBytes),
          };
          this.notify('new_conn', this.newConnProps);
        }
        return;
      case 'handshakeCompleted':
        this.settle({ kind: 'connected' });
        this.handshakeCompleted = true;
        this.isResumed = e.resumed;
        if (e.resumptionData !== undefined && e.resumptionData.length > 0) this.resumptionData = e.resumptionData;
        if (e.peerCertificates !== undefined) this.peerChain = e.peerCertificates;
        this.notify('connected', { is_resumed: e.resumed, alpns: e.alpn });
        if (this.side === 'server' && e.resumed) this.notify('connection_resumed', this.resumptionData ?? false);
        // Local streams started before the peer's limits were known can go now.
        this.startQueuedStreams();
        this.streamsAvailable();
        this.dgramState();
        return;
      case 'peerCertificates':
        this.peerChain = e.chain;
        // verify_peer without custom_verify is settled by tls-config.ts; custom_verify asks the owner.
        if (e.verification === 'custom' && e.awaitingVerdict && !settlePeerCertificate(this, e.chain, e.request?.serverName)) {
          const certs = [e.chain[0]!, e.chain] as const;
          this.certsFirst ??= certs;
          this.notify('peer_cert_received', certs);
        }
        return;
      case 'streamOpened':
        this.peerStream(e.streamId);
        return;
      case 'streamReadable':
        this.streams.get(e.streamId)?.onReadable();
        return;
      case 'streamReset':
        this.streams.get(e.streamId)?.onPeerSendAborted(e.errorCode);
        return;
      case 'streamStopSending':
        this.streams.get(e.streamId)?.onPeerReceiveAborted(e.errorCode);
        return;
      case 'streamSendComplete':
        this.streams.get(e.streamId)?.onSendShutdownComplete(true);
        return;
      case 'streamClosed':
        this.streams.get(e.streamId)?.onClosed(false);
        return;
      case 'streamDataAcked':
        this.streams.get(e.streamId)?.onDataAcked(e.offset);
        return;
      case 'streamWritable':
        this.streams.get(e.streamId)?.onWritable();
        return;
      case 'streamsAvailable':
        this.startQueuedStreams();
        this.streamsAvailable();
        return;
      case 'peerNeedsStreams':
        this.notify('peer_needs_streams', e.bidi ? 'bidi_streams' : 'unidi_streams');
        return;
      case 'datagram':
        this.owner.send(['quic', e.data, this, 0]);
        return;
      case 'sessionTicket':
        this.lastTicket = e.ticket;
        if (this.opts.quicEventMask & ConnEventMask.NST) this.notify('nst_received', e.ticket);
        return;
      case 'pathMtuChanged':
        this.dgramMtuChanged();
        return;
      case 'peerAddressChanged':
        this.notify('peer_address_changed', formatAddress(e.address));
        return;
      case 'shutdownInitiated':
        if (e.info.source === 'peer-application') {
          this.settle({ kind: 'closed' });
          this.notify('shutdown', e.info.code);
        } else {
          const props = transportShutdownProps(e.info);
          this.settle(props !== undefined ? { kind: 'transport_down', props } : { kind: 'closed' });
          if (props !== undefined) this.notify('transport_shutdown', props);
        }
        return;
      case 'closed':
        this.settle({ kind: 'closed' });
        this.closed = true;
        for (const q of this.queuedStreams.splice(0)) q.onClosed(true);
        for (const s of [...this.streams.values()]) s.onClosed(true);
        // Every pending stream acceptor learns that the connection is gone (QUICER.md §5.2).
        for (const a of this.acceptors.splice(0)) a.proc.send(['quic', 'closed', undefined, undefined]);
        this.notify('closed', {
          is_handshake_completed: this.handshakeCompleted,
          is_peer_acked: this.ec?.conn.peerAcknowledgedClose ?? false,
          is_app_closing: this.appClosing,
        });
        this.removeOwnerHook();
        for (const h of this.closeHooks.splice(0)) h();
        this.releaseEndpoint?.();
        this.releaseEndpoint = undefined;
        return;
      default:
        return;
    }
  }

  /** Announces how many streams we may open now (unless masked with NO_STREAMS_AVAILABLE). */
  streamsAvailable(): void {
    const c = this.ec?.conn;
    if (c === undefined || this.closed) return;
    if (this.side === 'client' && this.opts.quicEventMask & ConnEventMask.NO_STREAMS_AVAILABLE) return;
    this.notify('streams_available', {
      bidi_streams: Math.min(65535, c.streamsAvailable(true)),
      unidi_streams: Math.min(65535, c.streamsAvailable(false)),
    });
  }

  /** Reports datagram send capability (dgram_state_changed). */
  dgramState(): void {
    const c = this.ec?.conn;
    if (c === undefined) return;
    const max = c.maxDatagramPayload;
    this.reportedDgramMax = max;
    this.notify('dgram_state_changed', { dgram_send_enabled: max > 0, dgram_max_len: max });
  }

  /** The `dgram_max_len` last reported (undefined before the handshake completed). */
  private reportedDgramMax: number | undefined;

  /** The path MTU changed: datagrams that can be sent grow or shrink with it (MsQuic reports the new length). */
  private dgramMtuChanged(): void {
    const c = this.ec?.conn;
    if (c === undefined || this.reportedDgramMax === undefined || this.closed) return;
    const max = c.maxDatagramPayload;
    if (max > 0 && max !== this.reportedDgramMax) this.dgramState();
  }

  /** A stream the peer opened: to the first live queued acceptor, else to the owner as a passive orphan. */
  private peerStream(id: number): void {
    const uni = (id & 2) === 2;
    const flags = uni ? 1 : 0;
    const a = this.takeAcceptor();
    if (a !== undefined) {
      const s = new QuicStrm(this, a.proc, a.opts, id, false);
      this.streams.set(id, s);
      a.proc.send(['quic', 'new_stream', s, { flags, is_orphan: false }]);
      s.onReadable();
      return;
    }
    const s = new QuicStrm(this, this.owner, ORPHAN_OPTS, id, false);
    this.streams.set(id, s);
    this.owner.send(['quic', 'new_stream', s, { flags, is_orphan: true }]);
  }

  /** Registers a local stream; one without credit yet waits in `queuedStreams`. */
  registerLocal(s: QuicStrm): void {
    if (s.id !== undefined) this.streams.set(s.id, s);
    else this.queuedStreams.push(s);
  }

  /** Starts the queued local streams the peer's limits now allow, in order per direction. */
  private startQueuedStreams(): void {
    for (let i = 0; i < this.queuedStreams.length; ) {
      const s = this.queuedStreams[i]!;
      if (s.tryStart()) {
        this.queuedStreams.splice(i, 1);
        this.streams.set(s.id!, s);
      } else i++;
    }
  }

  /** Closes the connection (quicer's shutdown_connection); SILENT sends no CONNECTION_CLOSE. */
  shutdown(flags: number, errorCode: bigint | number): void {
    if (this.ec === undefined || this.closed) return;
    // Already closing (the peer closed, a timeout, an earlier shutdown): nothing to add, and
    // is_app_closing keeps saying who really closed.
    const st = this.ec.conn.state;
    if (st === 'closing' || st === 'draining' || st === 'closed') return;
    this.appClosing = true;
    this.ec.close(errorCode, '', { application: true, silent: (flags & ConnShutdownFlag.SILENT) !== 0 });
  }

  /** The owner died: shut down gracefully with application error 0 (QUICER.md §0.5). */
  private ownerDown(_reason: ExitReason): void {
    if (!this.closed) this.shutdown(0, 0);
  }
}
