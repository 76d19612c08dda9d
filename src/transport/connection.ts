import { createCongestionController } from '../congestion/index.js';
import type { CongestionController } from '../congestion/controller.js';
import { Pacer } from '../congestion/pacer.js';
import type { CryptoBackend } from '../crypto/backend.js';
import { defaultCrypto } from '../crypto/index.js';
import { createTlsClient } from '../tls/client.js';
import { createTlsServer, type TlsServer } from '../tls/server.js';
import type { TlsClient } from '../tls/client.js';
import { decodeClientSession } from '../tls/session.js';
import type { CertificateVerdict } from '../tls/types.js';
import {
  defaultTransportSettings,
  type ClientConnectionConfig,
  type ServerAcceptInfo,
  type ServerConnectionConfig,
  type TransportSettings,
} from './connection-config.js';
import { LocalConnectionIds, PeerConnectionIds, type ConnectionIdSource } from './connection-id.js';
import { Lifecycle } from './lifecycle.js';
import { QuicError, TransportError } from './errors.js';
import type { ConnectionCloseInfo, ConnectionEvent, PathAddress } from './events.js';
import { ReceiveCredit, SendCredit } from './flow-control.js';
import { FrameHandler } from './frame-handler.js';
import { HandshakeDriver, localTransportParameters, streamLimitsFrom } from './handshake-driver.js';
import type { OneRttProtection } from './key-update.js';
import { PacketReceiver } from './packet-receiver.js';
import { SpaceState } from './packet-space.js';
import { sameAddress } from './path.js';
import { PathManager } from './path-manager.js';
import { createInitialProtection, type PacketProtection } from './protection.js';
import { Recovery, type RecoveryHost } from './recovery.js';
import { Retransmission } from './retransmission.js';
import type { Role } from './role.js';
import { RttEstimator } from './rtt.js';
import { PacketSpace, type SentPacket } from './sent-packets.js';
import { RecvState, SendState, type QuicStream } from './stream.js';
import { StreamMap, type PeerStreamLimits } from './streams.js';
import type { TokenProtector } from './token.js';
import { Transmitter } from './transmit.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from './transport-params.js';
import { QUIC_V1, versionParameters, type VersionParameters } from './version.js';

/** Connection states. */
export type ConnectionState = 'handshake' | 'established' | 'closing' | 'draining' | 'closed';

/**
 * A QUIC connection (RFC 9000, 9001, 9002), client or server, as a sans-IO state machine:
 * datagrams in through `receive`, datagrams out through `pollTransmit`, timers through
 * `nextDeadline`/`handleTimeout`, and what happened through `pollEvent`. No sockets, clocks
 * or timers inside: every call takes `now` in milliseconds.
 */
export class Connection implements RecoveryHost {
  readonly role: Role;
  readonly crypto: CryptoBackend;
  readonly settings: TransportSettings;
  version: VersionParameters;
  state: ConnectionState = 'handshake';
  /** @internal */ readonly tls: TlsClient | TlsServer;
  /** @internal */ readonly spaces: [SpaceState, SpaceState, SpaceState];
  /** @internal */ oneRtt: OneRttProtection | undefined;
  /** @internal */ zeroRttSend: PacketProtection | undefined;
  /** @internal */ zeroRttRecv: PacketProtection | undefined;

  /** @internal */ readonly localCids: LocalConnectionIds;
  /** @internal */ readonly peerCids: PeerConnectionIds;
  /** @internal */ readonly cidSource: ConnectionIdSource;
  /** The client's first DCID (server: from the endpoint). */
  readonly originalDcid: Uint8Array;
  /** @internal */ retrySourceCid: Uint8Array | undefined;
  /** @internal Client: token for Initial packets (from Retry or NEW_TOKEN). */
  initialToken: Uint8Array = new Uint8Array(0);
  /** @internal Client: a Retry was accepted. */
  retried = false;

  /** @internal The paths to the peer: where datagrams go, validation, migration. */
  readonly paths: PathManager;
  /** @internal Client: the server has validated our address (RFC 9002 PeerCompletedAddressValidation). */
  peerValidatedOurAddress = false;

  readonly rtt: RttEstimator;
  /** The congestion controller of the current path (a new path gets a new one, RFC 9000 §9.4). */
  cc: CongestionController;
  readonly recovery: Recovery;
  /** @internal */ readonly pacer: Pacer | undefined;
  /** @internal */ maxDatagramSize: number;

  /** @internal */ readonly streams: StreamMap;
  /** @internal */ readonly connRecv: ReceiveCredit;
  /** @internal */ readonly connSend: SendCredit;
  /** @internal Streams with something to send, round-robin. */
  readonly sendQueue: QuicStream[] = [];

  /** @internal Control frames owed. */
  handshakeDonePending = false;
  /** @internal */ maxDataPending = false;
  /** @internal */ newTokenPending: Uint8Array | undefined;
  /** @internal */ pingPending = false;
  /** @internal */ readonly datagrams: Uint8Array[] = [];
  /** @internal */ closeFrameOwed = false;

  /** The peer's transport parameters, once known. */
  peerParams: TransportParameters | undefined;
  /** @internal */ peerAckDelayExponent = 3;
  /** @internal */ peerMaxDatagramFrameSize = 0;
  handshakeComplete = false;
  handshakeConfirmed = false;
  alpn: string | undefined;
  earlyDataStatus: 'accepted' | 'rejected' | 'not-offered' = 'not-offered';

  private readonly events: ConnectionEvent[] = [];
  private eventHead = 0;

  /** @internal */ idleTimeout: number;
  /** @internal When the last packet was processed. */
  lastReceive: number;
  /** @internal */ lastSend = -Infinity;
  /** @internal */ closeInfo: ConnectionCloseInfo | undefined;
  /** @internal Timeouts, closing and draining. */
  readonly lifecycle: Lifecycle;
  /** @internal When the previous 1-RTT keys are dropped. */
  keyDiscardDeadline = Infinity;
  /** @internal First packet number sent with the current 1-RTT keys. */
  keyPhaseStartPn = 0;
  /** @internal */ readonly transmitter: Transmitter;
  /** @internal */ readonly retransmission: Retransmission;
  /** @internal */ readonly handshake: HandshakeDriver;
  /** @internal */ readonly frames: FrameHandler;
  /** @internal */ readonly receiver: PacketReceiver;
  /** @internal Application-limited (nothing to send while the window had room). */
  appLimited = true;
  /** @internal The trace hook (qlog); every trace call site checks it first, so nothing is computed without it. */
  readonly trace: ((name: string, data: Record<string, unknown>) => void) | undefined;
  /** @internal Our transport parameters. */
  readonly localParams: TransportParameters;
  private readonly localParamsBytes: Uint8Array;

  /** Counters. */
  readonly stats = {
    packetsSent: 0,
    packetsReceived: 0,
    packetsDropped: 0,
    bytesSent: 0,
    bytesReceived: 0,
    streamBytesSent: 0,
    streamBytesReceived: 0,
  };

  private constructor(
    role: Role,
    config: ClientConnectionConfig | ServerConnectionConfig,
    peerAddress: PathAddress,
    now: number,
    server: ServerAcceptInfo | undefined,
  ) {
    this.role = role;
    this.crypto = config.crypto ?? defaultCrypto;
    this.settings = { ...defaultTransportSettings(), ...config.transport };
    const s = this.settings;
    const version = versionParameters(server?.version ?? config.version ?? QUIC_V1);
    if (version === undefined) throw new TypeError(`unsupported QUIC version 0x${(config.version ?? 0).toString(16)}`);
    this.version = version;
    this.trace = config.trace;
    this.lastReceive = now;
    this.lifecycle = new Lifecycle(this, now);
    this.cidSource = config.connectionIds;
    this.spaces = [
      new SpaceState(PacketSpace.Initial, s.maxAckRanges, 1),
      new SpaceState(PacketSpace.Handshake, s.maxAckRanges, 1),
      new SpaceState(PacketSpace.Application, s.maxAckRanges, s.ackElicitingThreshold),
    ];
    this.rtt = new RttEstimator(s.initialRtt);
    this.maxDatagramSize = s.initialMaxDatagramSize;
    this.cc = this.newCongestionController();
    this.retransmission = new Retransmission(this);
    this.handshake = new HandshakeDriver(this);
    this.frames = new FrameHandler(this);
    this.receiver = new PacketReceiver(this);
    this.recovery = new Recovery(this.rtt, this.cc, this);
    this.pacer = s.pacing ? new Pacer({ maxDatagramSize: this.maxDatagramSize }) : undefined;
    this.idleTimeout = s.maxIdleTimeout;
    this.peerCids = new PeerConnectionIds(s.activeConnectionIdLimit);
    this.connRecv = new ReceiveCredit(s.initialMaxData, Math.max(s.initialMaxData, s.maxConnectionWindow));
    this.connSend = new SendCredit(0);

    let peerLimits: PeerStreamLimits = { maxBidi: 0, maxUni: 0, dataBidiLocal: 0, dataBidiRemote: 0, dataUni: 0 };
    let scid: Uint8Array;
    if (role === 'client') {
      const c = config as ClientConnectionConfig;
      const dcidLen = c.initialDcidLength ?? 8;
      if (!(dcidLen >= 8 && dcidLen <= 20)) throw new RangeError(`initialDcidLength must be 8..20, got ${dcidLen}`);
      this.originalDcid = new Uint8Array(dcidLen);
      this.crypto.randomFill(this.originalDcid);
      this.peerCids.setInitial(this.originalDcid);
      scid = this.cidSource.generate();
      this.paths = new PathManager(this, peerAddress, true); // a client never limits itself
      if (c.token) this.initialToken = c.token;
      // 0-RTT: the remembered server transport parameters bound what we may send early.
      if (c.tls.session !== undefined) {
        try {
          const remembered = decodeTransportParameters(decodeClientSession(c.tls.session).transportParameters, 'server');
          peerLimits = streamLimitsFrom(remembered);
          this.connSend.raise(remembered.initialMaxData);
          this.peerMaxDatagramFrameSize = remembered.maxDatagramFrameSize;
        } catch {
          // Unusable remembered parameters: no 0-RTT budget.
        }
      }
    } else {
      const info = server!;
      this.originalDcid = info.originalDcid;
      this.retrySourceCid = info.retrySourceCid;
      scid = info.localCid;
      this.paths = new PathManager(this, peerAddress, info.addressValidated);
      this.handshakeHeld = info.holdHandshake === true;
    }
    this.localCids = new LocalConnectionIds(this.cidSource, scid);
    this.streams = new StreamMap(
      role,
      {
        maxPeerBidi: s.initialMaxStreamsBidi,
        maxPeerUni: s.initialMaxStreamsUni,
        windowBidiLocal: s.initialMaxStreamDataBidiLocal,
        windowBidiRemote: s.initialMaxStreamDataBidiRemote,
        windowUni: s.initialMaxStreamDataUni,
        maxStreamWindow: s.maxStreamWindow,
      },
      peerLimits,
      { onPeerStreamOpened: (st) => this.emit({ type: 'streamOpened', streamId: st.id }) },
    );

    this.localParams = localTransportParameters(s, role, this.version, scid, this.localCids.all[0]!.resetToken, this.originalDcid, this.retrySourceCid);
    this.localParamsBytes = encodeTransportParameters(this.localParams, { senderRole: role });

    // Initial keys from the client's DCID (after a Retry, the DCID the client's Initial now carries).
    const initialDcid = role === 'client' ? this.originalDcid : server!.initialDcid;
    this.installInitialKeys(initialDcid);

    if (role === 'client') {
      const c = config as ClientConnectionConfig;
      this.tls = createTlsClient({ ...c.tls, crypto: this.crypto, transportParameters: this.localParamsBytes });
    } else {
      const c = config as ServerConnectionConfig;
      this.tls = createTlsServer({ ...c.tls, crypto: this.crypto, transportParameters: this.localParamsBytes });
      this.tokens = c.tokens;
      this.hasTicketSealer = c.tls.ticketSealer !== undefined;
    }
    this.transmitter = new Transmitter(this);
    this.emit({ type: 'connectionIdAdded', cid: scid, resetToken: this.localCids.all[0]!.resetToken });
  }

  /** Server: the SNI and ALPN list of the client's ClientHello, once it arrived. */
  clientHelloInfo: { serverName: string | undefined; alpn: readonly string[] } | undefined;
  /** @internal Server: the raw ClientHello (Initial CRYPTO data as received, in order). */
  readonly clientHelloBytes: Uint8Array[] = [];
  /** @internal Server: sending is held until the application continues the handshake. */
  handshakeHeld = false;

  /** The negotiated ALPN protocol (a server knows it as soon as the ClientHello was processed). */
  get negotiatedAlpn(): string | undefined {
    return this.alpn ?? this.tls.alpnProtocol;
  }

  /** Server: continues a handshake held with `holdHandshake` (quicer's handshake/async_handshake). */
  releaseHandshake(): void {
    this.handshakeHeld = false;
  }

  /** Changes the keep-alive interval at runtime (0 turns it off). */
  setKeepAliveInterval(ms: number, now: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`keep-alive interval must be a non-negative number of ms, got ${ms}`);
    this.settings.keepAliveInterval = ms;
    this.transmitter.rearmKeepAlive(now);
  }

  /** Bytes of a stream acknowledged by the peer from the start (contiguously). */
  streamAckedOffset(streamId: number): number {
    return this.streams.get(streamId)?.send?.ackedOffset ?? 0;
  }

  /**
   * Asks for `streamDataAcked` events as the acknowledged prefix of a stream grows (for
   * applications that complete sends only once the peer has the data).
   */
  streamNotifyAcked(streamId: number, on = true): void {
    const s = this.streams.get(streamId);
    if (s !== undefined) s.notifyAcked = on;
  }

  /** @internal Server: seals NEW_TOKEN tokens. */
  tokens: TokenProtector | undefined;
  /** @internal Server: session tickets can be issued. */
  hasTicketSealer = false;

  /** Starts a client connection: queues the ClientHello (and 0-RTT keys when resuming). */
  static connect(config: ClientConnectionConfig, peer: PathAddress, now: number): Connection {
    const c = new Connection('client', config, peer, now, undefined);
    (c.tls as TlsClient).start(now);
    c.handshake.drainTls(now);
    return c;
  }

  /** A server connection for a client's first Initial; feed that datagram to `receive` next. */
  static accept(config: ServerConnectionConfig, info: ServerAcceptInfo, peer: PathAddress, now: number): Connection {
    return new Connection('server', config, peer, now, info);
  }

  // ---------------------------------------------------------------------------------------
  // Public API

  /** The peer's address: where datagrams go (see `transmitAddress` for the one just built). */
  get peerAddress(): PathAddress {
    return this.paths.active.address;
  }

  /**
   * Where the datagram last written by `pollTransmitInto` goes: the peer's address, or another
   * address of the peer a PATH_RESPONSE or PATH_CHALLENGE is sent to (RFC 9000 §8.2).
   */
  get transmitAddress(): PathAddress {
    return this.paths.transmitPath.address;
  }

  /** @internal Whether the peer's address is validated (RFC 9000 §8): until then we send at most 3× what it sent. */
  get addressValidated(): boolean {
    return this.paths.active.validated;
  }
  set addressValidated(v: boolean) {
    this.paths.active.validated = v;
  }

  /** Our connection IDs currently valid (sequence 0 first). */
  get localConnectionIds(): readonly Uint8Array[] {
    return this.localCids.all.map((c) => c.cid);
  }

  /** The next event, or undefined. */
  pollEvent(): ConnectionEvent | undefined {
    if (this.eventHead >= this.events.length) {
      if (this.eventHead > 0) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      return undefined;
    }
    const e = this.events[this.eventHead];
    this.events[this.eventHead++] = undefined as unknown as ConnectionEvent;
    return e;
  }

  /** @internal */
  emit(e: ConnectionEvent): void {
    this.events.push(e);
  }

  /** True once `closed` was emitted: the object can be dropped. */
  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Opens a stream; undefined when the peer's stream limit is reached (STREAMS_BLOCKED is then sent). */
  openStream(bidi: boolean): number | undefined {
    this.assertUsable();
    const s = this.streams.open(bidi);
    return s?.id;
  }

  /** How many more streams of a direction may be opened now. */
  streamsAvailable(bidi: boolean): number {
    return this.streams.available(bidi);
  }

  /**
   * Queues `data` (kept by reference until acknowledged: do not modify it) on a stream, with
   * an optional FIN. Throws TypeError for an unknown stream, a receive-only stream, or a
   * stream whose sending part is finished or reset.
   */
  streamWrite(streamId: number, data: Uint8Array, fin = false): void {
    this.assertUsable();
    const s = this.streamForWrite(streamId);
    s.send!.write(data, fin);
    if (s.sendState === SendState.Ready) s.sendState = SendState.Send;
    if (fin) s.sendState = SendState.DataSent;
    this.queueStream(s);
  }

  /**
   * Makes a stream we opened known to the peer before any data is written: a zero-length
   * STREAM frame goes out (MsQuic's IMMEDIATE start flag). No effect once the stream sent
   * something. Throws TypeError like `streamWrite` for a stream that cannot send.
   */
  streamAnnounce(streamId: number): void {
    this.assertUsable();
    const s = this.streamForWrite(streamId);
    s.send!.announce();
    if (s.sendState === SendState.Ready) s.sendState = SendState.Send;
    this.queueStream(s);
  }

  /** Bytes queued on a stream and not yet acknowledged (for send buffering limits). */
  streamUnacked(streamId: number): number {
    return this.streams.get(streamId)?.send?.unackedBytes ?? 0;
  }

  /** Remaining stream-level send credit (bytes the peer allows beyond what was sent). */
  streamSendCredit(streamId: number): number {
    const s = this.streams.get(streamId);
    if (s?.send === undefined) return 0;
    return Math.max(0, s.sendCredit.limit - s.send.length);
  }

  /**
   * Reads up to `max` bytes from a stream (everything readable when `max` allows; a view of
   * received data when it lies in one packet, else a copy). `fin` is true once everything up
   * to the final size has been read. Returns undefined for a stream that does not exist (any more).
   */
  streamRead(streamId: number, max = Infinity, now = this.lastReceive): { data: Uint8Array; fin: boolean } | undefined {
    return this.readStream(streamId, max, now, false);
  }

  /**
   * Like `streamRead`, but never copies: `data` is a view of one received segment, so it may be
   * shorter than what is readable — read until `data` is empty.
   */
  streamReadSegment(streamId: number, max = Infinity, now = this.lastReceive): { data: Uint8Array; fin: boolean } | undefined {
    return this.readStream(streamId, max, now, true);
  }

  private readStream(streamId: number, max: number, now: number, segment: boolean): { data: Uint8Array; fin: boolean } | undefined {
    const s = this.streams.get(streamId);
    if (s?.recv === undefined) return undefined;
    const r = s.recv;
    // After the peer's RESET_STREAM, buffered data is abandoned (its credit was already returned).
    const data = s.recvState >= RecvState.ResetRecvd ? new Uint8Array(0) : segment ? r.readSegment(max) : r.read(max);
    s.readableSignalled = false;
    if (data.length > 0) this.frames.onConsumedCredit(s, data.length, now);
    const fin = r.isFinished;
    if (fin && s.recvState === RecvState.DataRecvd) {
      s.recvState = RecvState.DataRead;
      this.maybeForget(s);
    }
    return { data, fin };
  }

  /** Bytes readable on a stream right now. */
  streamReadable(streamId: number): number {
    const s = this.streams.get(streamId);
    if (s === undefined || s.recvState >= RecvState.ResetRecvd) return 0;
    return s.recv?.readable ?? 0;
  }

  /** Abandons our sending part with RESET_STREAM(errorCode). */
  streamReset(streamId: number, errorCode: bigint | number): void {
    this.assertUsable();
    const s = this.streams.get(streamId);
    if (s?.send === undefined) throw new TypeError(`stream ${streamId} has no sending part`);
    if (s.sendState === SendState.DataRecvd || s.sendState >= SendState.ResetSent) return;
    s.resetCode = BigInt(errorCode);
    s.resetFinalSize = s.send.sentOffset; // RFC 9000 §4.5: the bytes sent, not those queued
    s.resetPending = true;
    s.sendState = SendState.ResetSent;
    s.send.discard();
    this.queueStream(s);
  }

  /** Asks the peer to stop sending (STOP_SENDING(errorCode)); data still arriving is discarded. */
  streamStopSending(streamId: number, errorCode: bigint | number): void {
    this.assertUsable();
    const s = this.streams.get(streamId);
    if (s?.recv === undefined) throw new TypeError(`stream ${streamId} has no receiving part`);
    if (s.recvState >= RecvState.DataRecvd || s.stopSendingCode !== undefined) return;
    s.stopSendingCode = BigInt(errorCode);
    s.stopSendingPending = true;
    this.queueStream(s);
  }

  /** Sets a stream's send priority (higher first). */
  streamSetPriority(streamId: number, priority: number): void {
    const s = this.streams.get(streamId);
    if (s) s.priority = priority;
  }

  /** Raises the number of streams the peer may open (sends MAX_STREAMS). */
  setPeerStreamLimit(bidi: boolean, count: number): void {
    this.streams.setPeerStreamCount(bidi, count);
  }

  /**
   * Queues an unreliable DATAGRAM (RFC 9221). Returns false when the peer does not accept
   * datagrams or this one is too large for its limit or a packet.
   */
  sendDatagram(data: Uint8Array): boolean {
    this.assertUsable();
    if (this.peerMaxDatagramFrameSize === 0) return false;
    if (data.length + 3 > this.peerMaxDatagramFrameSize || data.length > this.maxDatagramSize - 60) return false;
    if (this.datagrams.length >= 1024) return false;
    this.datagrams.push(data);
    return true;
  }

  /** Largest DATAGRAM payload that fits now (0 when the peer does not accept them). */
  get maxDatagramPayload(): number {
    if (this.peerMaxDatagramFrameSize === 0) return 0;
    return Math.max(0, Math.min(this.peerMaxDatagramFrameSize - 3, this.maxDatagramSize - 60));
  }

  /** The verdict on the peer's certificates after a `peerCertificates` event with `awaitingVerdict`. */
  completeCertificateVerification(verdict: CertificateVerdict, now: number): void {
    if (this.state === 'closed' || this.state === 'draining' || this.state === 'closing') return;
    try {
      this.tls.completeCertificateVerification(verdict, now);
      this.handshake.drainTls(now);
    } catch (e) {
      this.failWith(e, now);
    }
  }

  /**
   * Closes the connection: CONNECTION_CLOSE with `errorCode` (an application error by default;
   * a transport error code with `application: false`), then the closing state for 3×PTO.
   * `silent` skips the CONNECTION_CLOSE (the peer learns by idle timeout or stateless reset).
   */
  close(errorCode: bigint | number, reason = '', now: number, opts: { application?: boolean; silent?: boolean } = {}): void {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') return;
    const application = opts.application ?? true;
    const info: ConnectionCloseInfo = {
      source: application ? 'application' : 'transport',
      code: BigInt(errorCode),
      frameType: 0,
      reason,
    };
    if (opts.silent) {
      this.lifecycle.silentClose(info);
      return;
    }
    this.lifecycle.enterClosing(info, now);
  }

  /** Initiates a 1-RTT key update (RFC 9001 §6). Returns false when not allowed yet. */
  initiateKeyUpdate(now: number): boolean {
    if (!this.handshakeConfirmed || this.oneRtt === undefined || this.state !== 'established') return false;
    if (this.oneRtt.hasPreviousKeys) return false;
    // RFC 9001 §6.1: not before a packet sent with the current keys was acknowledged (else the
    // peer, still on the previous keys, could not tell this update from the last one).
    if (this.recovery.largestAcked[PacketSpace.Application]! < this.keyPhaseStartPn) return false;
    this.oneRtt.initiateKeyUpdate();
    this.keyPhaseStartPn = this.spaces[PacketSpace.Application].nextPn;
    this.keyDiscardDeadline = now + 3 * this.recovery.ptoDuration();
    this.traceEvent('key_update', { generation: this.oneRtt.generation, trigger: 'local' });
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Receiving

  /** Processes one UDP datagram from `from`. Never throws for anything the network sends. */
  receive(datagram: Uint8Array, from: PathAddress, now: number): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    if (this.role === 'client' && !sameAddress(from, this.paths.active.address)) {
      // RFC 9000 §9: a client discards packets from server addresses it does not know.
      this.stats.packetsDropped++;
      return;
    }
    this.paths.onDatagram(from, datagram.length);
    this.stats.bytesReceived += datagram.length;
    if (this.state === 'closing') {
      // RFC 9000 §10.2.1: answer with CONNECTION_CLOSE, at a decreasing rate; a CONNECTION_CLOSE
      // from the peer (the only frame still acted on) moves us to draining.
      this.lifecycle.onDatagramWhileClosing();
    }
    try {
      this.receiver.receiveDatagram(datagram, from, now);
    } catch (e) {
      this.failWith(e, now);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Keys and spaces

  /** @internal Installs the Initial keys derived from the client's chosen DCID (RFC 9001 §5.2). */
  installInitialKeys(dcid: Uint8Array): void {
    const init = createInitialProtection(this.crypto, this.version, dcid);
    const sp = this.spaces[PacketSpace.Initial];
    sp.sendKeys = this.role === 'client' ? init.client : init.server;
    sp.recvKeys = this.role === 'client' ? init.server : init.client;
    if (this.role === 'server') this.clientChosenDcid = dcid;
  }

  /** @internal Server: the DCID the client's Initial packets carry. */
  clientChosenDcid: Uint8Array | undefined;

  /** Whether `datagram` is a stateless reset from the peer (RFC 9000 §10.3.1): it ends in one of the peer's reset tokens. */
  isStatelessReset(datagram: Uint8Array): boolean {
    return datagram.length >= 21 && (datagram[0]! & 0x80) === 0 && this.peerCids.isStatelessReset(datagram.subarray(datagram.length - 16));
  }

  /** @internal Drops a space's keys and state (RFC 9001 §4.9). */
  discardSpace(space: PacketSpace, now: number): void {
    const sp = this.spaces[space];
    if (sp.discarded) return;
    sp.discarded = true;
    sp.sendKeys = undefined;
    sp.recvKeys = undefined;
    this.recovery.discardSpace(space, now);
  }

  /** @internal Reports our connection IDs added and retired since the last call (for the endpoint's routing). */
  flushCidChanges(): void {
    const l = this.localCids;
    for (const cid of l.added) {
      const c = l.all.find((x) => x.cid === cid);
      this.emit({ type: 'connectionIdAdded', cid, resetToken: c?.resetToken ?? this.cidSource.resetToken(cid) });
    }
    for (const cid of l.retired) this.emit({ type: 'connectionIdRetired', cid });
    l.added.length = 0;
    l.retired.length = 0;
  }

  // ---------------------------------------------------------------------------------------
  // Streams (internal)

  private streamForWrite(id: number): QuicStream {
    const s = this.streams.get(id);
    if (s === undefined) throw new TypeError(`stream ${id} does not exist`);
    if (s.send === undefined) throw new TypeError(`stream ${id} is receive-only`);
    if (s.sendState === SendState.DataSent || s.sendState === SendState.DataRecvd) throw new TypeError(`stream ${id} was already finished (FIN sent)`);
    if (s.sendState >= SendState.ResetSent) throw new TypeError(`stream ${id} was reset`);
    return s;
  }

  /** @internal Puts a stream in the send queue if it is not there. */
  queueStream(s: QuicStream): void {
    if (s.queued) return;
    s.queued = true;
    this.sendQueue.push(s);
  }

  /** @internal Queues every stream with unsent data (after the peer raised a limit). */
  requeueBlockedStreams(): void {
    for (const s of this.streams.values()) {
      if (s.send !== undefined && s.send.unsentBytes > 0) this.queueStream(s);
    }
  }

  /** @internal Forgets a stream once both parts are terminal. */
  maybeForget(s: QuicStream): void {
    if (!s.isClosed) return;
    if (this.streams.get(s.id) !== s) return;
    this.streams.remove(s);
    this.emit({ type: 'streamClosed', streamId: s.id });
  }

  // ---------------------------------------------------------------------------------------
  // Acknowledgement and loss of what we sent (RecoveryHost)

  onPacketAcked(space: PacketSpace, p: SentPacket): void {
    this.retransmission.onPacketAcked(space, p);
  }

  onPacketLost(space: PacketSpace, p: SentPacket): void {
    this.retransmission.onPacketLost(space, p);
  }

  peerCompletedAddressValidation(): boolean {
    return this.role === 'server' || this.peerValidatedOurAddress || this.handshakeConfirmed;
  }

  atAmplificationLimit(): boolean {
    const p = this.paths.active;
    return !p.validated && p.bytesSent >= 3 * p.bytesReceived;
  }

  hasHandshakeKeys(): boolean {
    return this.spaces[PacketSpace.Handshake].sendKeys !== undefined;
  }

  isAppLimited(): boolean {
    return this.appLimited;
  }

  // ---------------------------------------------------------------------------------------
  // Sending and timers

  /**
   * Writes the next datagram into `buf` (at least 1200 bytes; up to the path MTU is used) and
   * returns its length, or 0 when nothing is to be sent now. The destination is `transmitAddress`
   * (`peerAddress` but for datagrams that validate or answer the validation of another path).
   */
  pollTransmitInto(buf: Uint8Array, now: number): number {
    if (this.state === 'closed' || (this.state === 'draining' && !this.closeFrameOwed)) return 0;
    const n = this.transmitter.build(buf, now);
    if (n > 0) {
      this.paths.transmitPath.bytesSent += n;
      this.stats.bytesSent += n;
      this.lastSend = now;
      const k = this.oneRtt;
      if (k !== undefined && k.sendKeys.sealedPackets >= k.limits.confidentiality * 0.75) this.onConfidentialityLimit(now);
    }
    return n;
  }

  /**
   * RFC 9001 §6.6: the 1-RTT send keys approach their confidentiality limit (2^23 packets for
   * AES-GCM). Update the keys while there is margin; at the limit itself, close.
   */
  private onConfidentialityLimit(now: number): void {
    if (this.initiateKeyUpdate(now)) return;
    const k = this.oneRtt!;
    if (k.sendKeys.sealedPackets >= k.limits.confidentiality) {
      this.failWith(new QuicError(TransportError.AEAD_LIMIT_REACHED, `${k.sendKeys.sealedPackets} packets sealed with one key and no key update possible`), now);
    }
  }

  /** Size of the buffer `pollTransmitInto` needs for the next datagram. */
  get datagramRoom(): number {
    return this.transmitter.datagramRoom;
  }

  private txBuffer: Uint8Array | undefined;

  /** Like `pollTransmitInto`, into a buffer owned by the connection (valid until the next call). */
  pollTransmit(now: number): { data: Uint8Array; to: PathAddress } | undefined {
    this.txBuffer ??= new Uint8Array(65536);
    const n = this.pollTransmitInto(this.txBuffer, now);
    return n === 0 ? undefined : { data: this.txBuffer.subarray(0, n), to: this.transmitAddress };
  }

  /** @internal An ack-eliciting packet went out. */
  onAckElicitingSent(now: number): void {
    this.lifecycle.onAckElicitingSent(now);
  }

  /** When `handleTimeout` must run next (undefined: no timer). */
  nextDeadline(): number | undefined {
    if (this.state === 'closed') return undefined;
    let t = this.lifecycle.deadline();
    // Closing/draining, or a held handshake: only the lifecycle timers run (nothing can be sent).
    if (this.state === 'closing' || this.state === 'draining' || this.handshakeHeld) return t === Infinity ? undefined : t;
    const r = this.recovery.deadline;
    if (r < t) t = r;
    if (this.keyDiscardDeadline < t) t = this.keyDiscardDeadline;
    for (let i = 0; i < 3; i++) {
      const sp = this.spaces[i]!;
      if (sp.discarded || sp.tracker.ackDeadline >= t) continue;
      // An ACK that cannot be sent yet (0-RTT acknowledged in 1-RTT before the server has the
      // 1-RTT keys) is no timer: it goes out with the first packet the keys allow.
      if (i === PacketSpace.Application ? this.oneRtt === undefined || (this.role === 'client' && !this.handshakeComplete) : sp.sendKeys === undefined) continue;
      t = sp.tracker.ackDeadline;
    }
    const tx = this.transmitter.deadline();
    if (tx < t) t = tx;
    const pv = this.paths.deadline();
    if (pv < t) t = pv;
    return t === Infinity ? undefined : t;
  }

  /** Runs whatever timers are due at `now`. */
  handleTimeout(now: number): void {
    if (this.state === 'closed') return;
    try {
      if (this.lifecycle.onTimeout(now)) return;
      if (now >= this.keyDiscardDeadline) {
        this.keyDiscardDeadline = Infinity;
        this.oneRtt?.discardPreviousKeys();
      }
      if (now >= this.recovery.deadline) {
        this.recovery.onTimeout(now);
        this.retransmission.queueProbeData();
      }
      this.transmitter.onTimeout(now);
      this.paths.onTimeout(now);
    } catch (e) {
      this.failWith(e, now);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Closing

  private assertUsable(): void {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') {
      throw new TypeError(`connection is ${this.state}`);
    }
  }

  /** @internal Ends the connection because of an error raised while processing. */
  failWith(e: unknown, now: number): void {
    this.lifecycle.failWith(e, now);
  }

  /** @internal The peer closed (RFC 9000 §10.2.2). */
  enterDraining(info: ConnectionCloseInfo, now: number): void {
    this.lifecycle.enterDraining(info, now);
  }

  /** @internal The connection is finished (no CONNECTION_CLOSE, or the closing/draining period ended). */
  enterClosed(): void {
    this.lifecycle.enterClosed();
  }

  /**
   * Server: sends another NewSessionTicket whose `applicationData` comes back in
   * `handshakeCompleted.resumptionData` when the client resumes with it (MsQuic's
   * ConnectionSendResumptionTicket). The automatic ticket at handshake completion carries none.
   * False when the client cannot use a ticket (it offered no psk_dhe_ke).
   * Throws a TypeError on a client, before the handshake completed, while closing, or without a
   * ticket key.
   */
  sendSessionTicket(applicationData: Uint8Array, now: number): boolean {
    return this.handshake.sendSessionTicket(applicationData, now);
  }

  /** True once our CONNECTION_CLOSE was answered by the peer's (quicer's is_peer_acked). */
  get peerAcknowledgedClose(): boolean {
    return this.lifecycle.peerAcknowledgedClose;
  }

  /** @internal Restarts congestion control from the initial window (after send idleness), keeping the path's MTU and RTT. */
  resetCongestionState(): void {
    const cc = this.newCongestionController();
    if (this.maxDatagramSize !== cc.maxDatagramSize) cc.setMaxDatagramSize(this.maxDatagramSize);
    this.cc = cc;
    this.recovery.cc = cc;
    this.traceEvent('congestion_state_reset', { reason: 'send_idle' });
  }

  /** @internal A congestion controller in its initial state (for a new connection or a new path). */
  newCongestionController(): CongestionController {
    const s = this.settings;
    const ccSettings = { maxDatagramSize: s.initialMaxDatagramSize, hyStart: true, ...(s.initialWindowPackets !== undefined ? { initialWindowPackets: s.initialWindowPackets } : {}) };
    return createCongestionController(s.congestionControl, ccSettings);
  }

  /** @internal */
  traceEvent(name: string, data: Record<string, unknown>): void {
    this.trace?.(name, data);
  }

  /** @internal */
  traceMetrics(): void {
    const r = this.rtt;
    this.traceEvent('metrics_updated', {
      min_rtt: r.minRtt === Infinity ? undefined : r.minRtt,
      smoothed_rtt: r.smoothedRtt,
      latest_rtt: r.latestRtt,
      rtt_variance: r.rttVar,
      congestion_window: this.cc.congestionWindow,
      ssthresh: this.cc.slowStartThreshold === Infinity ? undefined : this.cc.slowStartThreshold,
      bytes_in_flight: this.recovery.bytesInFlight,
      pto_count: this.recovery.ptoCount,
    });
  }
}
