import type { TlsServer } from '../tls/server.js';
import type { TlsEvent } from '../tls/types.js';
import { equalBytes } from '../util/bytes.js';
import type { TransportSettings } from './connection-config.js';
import type { Connection } from './connection.js';
import { QuicError, TransportError } from './errors.js';
import { OneRttProtection } from './key-update.js';
import { createPacketProtection } from './protection.js';
import type { Role } from './role.js';
import { PacketSpace } from './sent-packets.js';
import type { PeerStreamLimits } from './streams.js';
import { TokenKind } from './token.js';
import { decodeTransportParameters, encodeTransportParameters, type TransportParameters } from './transport-params.js';
import type { VersionParameters } from './version.js';

/** The stream limits a set of transport parameters grants (RFC 9000 §18.2). */
export function streamLimitsFrom(p: TransportParameters): PeerStreamLimits {
  return {
    maxBidi: p.initialMaxStreamsBidi,
    maxUni: p.initialMaxStreamsUni,
    dataBidiLocal: p.initialMaxStreamDataBidiLocal,
    dataBidiRemote: p.initialMaxStreamDataBidiRemote,
    dataUni: p.initialMaxStreamDataUni,
  };
}

/**
 * Our transport parameters (RFC 9000 §18.2) from the connection's settings. A server also
 * sends the connection IDs of §7.3 and its stateless reset token.
 */
export function localTransportParameters(
  s: TransportSettings,
  role: Role,
  version: VersionParameters,
  scid: Uint8Array,
  resetToken: Uint8Array,
  originalDcid: Uint8Array,
  retrySourceCid: Uint8Array | undefined,
): TransportParameters {
  const server = role === 'server';
  return {
    originalDestinationConnectionId: server ? originalDcid : undefined,
    maxIdleTimeout: s.maxIdleTimeout,
    statelessResetToken: server ? resetToken : undefined,
    maxUdpPayloadSize: s.maxUdpPayloadSize,
    initialMaxData: s.initialMaxData,
    initialMaxStreamDataBidiLocal: s.initialMaxStreamDataBidiLocal,
    initialMaxStreamDataBidiRemote: s.initialMaxStreamDataBidiRemote,
    initialMaxStreamDataUni: s.initialMaxStreamDataUni,
    initialMaxStreamsBidi: s.initialMaxStreamsBidi,
    initialMaxStreamsUni: s.initialMaxStreamsUni,
    ackDelayExponent: s.ackDelayExponent,
    maxAckDelay: s.maxAckDelay,
    disableActiveMigration: s.disableActiveMigration,
    preferredAddress: undefined,
    activeConnectionIdLimit: s.activeConnectionIdLimit,
    initialSourceConnectionId: scid,
    retrySourceConnectionId: server ? retrySourceCid : undefined,
    maxDatagramFrameSize: s.maxDatagramFrameSize,
    versionInformation: { chosenVersion: version.version, availableVersions: [version.version] },
    greaseQuicBit: s.greaseQuicBit,
    disable1RttEncryption: s.disable1RttEncryption,
  };
}

/**
 * The connection's side of the TLS handshake (RFC 9001 §4): TLS output goes into the CRYPTO
 * streams of its packet number space; TLS events install packet keys (replaying packets that
 * waited for them), apply the peer's transport parameters after the connection ID checks of
 * RFC 9000 §7.3, complete and confirm the handshake, settle 0-RTT, and pass session tickets on.
 */
export class HandshakeDriver {
  /** 1-RTT secrets of one direction, held until the other direction's arrive. */
  private oneRttSecrets: { read?: Uint8Array; write?: Uint8Array; suite?: { aead: string; hash: string; hp: string } } = {};

  constructor(private readonly c: Connection) {}

  /** Moves TLS output into CRYPTO streams and acts on TLS events. */
  drainTls(now: number): void {
    const c = this.c;
    for (let out = c.tls.pollOutput(); out !== undefined; out = c.tls.pollOutput()) {
      const sp = out.level === 'initial' ? 0 : out.level === 'handshake' ? 1 : 2;
      const cs = c.spaces[sp]!.cryptoSend;
      cs.write(out.data);
      // MsQuic's TlsClient/ServerMaxSendBuffer: handshake bytes buffered for sending are bounded.
      const limit = c.settings.maxTlsSendBuffer;
      if (limit > 0 && sp !== 2 && cs.unackedBytes > limit) {
        throw new QuicError(
          TransportError.INTERNAL_ERROR,
          `TLS ${out.level} flight of ${cs.unackedBytes} bytes exceeds the TLS send buffer limit of ${limit} bytes`,
        );
      }
    }
    for (let e = c.tls.pollEvent(); e !== undefined; e = c.tls.pollEvent()) this.onTlsEvent(e, now);
  }

  private onTlsEvent(e: TlsEvent, now: number): void {
    const c = this.c;
    switch (e.type) {
      case 'secret': {
        const read = e.direction === 'read';
        if (e.level === 'handshake') {
          const keys = createPacketProtection(c.crypto, e.suite, c.version, e.secret);
          const sp = c.spaces[PacketSpace.Handshake];
          if (read) sp.recvKeys = keys;
          else sp.sendKeys = keys;
          if (read) c.receiver.replayBuffered(now);
        } else if (e.level === 'zeroRtt') {
          const keys = createPacketProtection(c.crypto, e.suite, c.version, e.secret);
          if (read) {
            c.zeroRttRecv = keys;
            c.receiver.replayBuffered(now);
          } else c.zeroRttSend = keys;
        } else {
          if (read) this.oneRttSecrets.read = e.secret;
          else this.oneRttSecrets.write = e.secret;
          this.oneRttSecrets.suite = e.suite;
          const { read: rs, write: ws } = this.oneRttSecrets;
          if (rs !== undefined && ws !== undefined && c.oneRtt === undefined) {
            c.oneRtt = new OneRttProtection(c.crypto, e.suite, c.version, ws, rs);
            this.oneRttSecrets = {};
            if (c.role === 'client') c.zeroRttSend = undefined;
            c.receiver.replayBuffered(now);
          }
        }
        return;
      }
      case 'peerTransportParameters':
        this.onPeerTransportParameters(e.data, now);
        return;
      case 'peerCertificates':
        c.emit({ type: 'peerCertificates', chain: e.chain, verification: e.verification, awaitingVerdict: e.awaitingVerdict, request: e.request });
        return;
      case 'clientHello':
        c.clientHelloInfo = { serverName: e.serverName, alpn: e.alpn };
        c.emit({ type: 'clientHello', serverName: e.serverName, alpn: e.alpn });
        return;
      case 'earlyData':
        c.earlyDataStatus = e.status;
        if (c.role === 'client') {
          c.emit({ type: 'earlyData', status: e.status });
          if (e.status === 'rejected') this.onEarlyDataRejected(now);
        } else if (e.status === 'rejected') {
          c.zeroRttRecv = undefined;
        }
        return;
      case 'handshakeComplete':
        this.onHandshakeComplete(e, now);
        return;
      case 'sessionTicket':
        c.emit({ type: 'sessionTicket', ticket: e.session });
        return;
    }
  }

  private onHandshakeComplete(e: Extract<TlsEvent, { type: 'handshakeComplete' }>, now: number): void {
    const c = this.c;
    c.handshakeComplete = true;
    c.alpn = e.alpn;
    if (c.trace !== undefined) c.traceEvent('connection_state_updated', { new: 'handshake_complete', alpn: e.alpn, cipher_suite: e.cipherSuite });
    if (e.earlyData !== 'not-offered') c.earlyDataStatus = e.earlyData;
    if (c.state === 'handshake') c.state = 'established';
    c.emit({
      type: 'handshakeCompleted',
      alpn: e.alpn,
      resumed: e.resumed,
      earlyData: e.earlyData,
      peerCertificates: e.peerCertificates,
      serverName: e.serverName,
      cipherSuite: e.cipherSuite,
      ...(e.resumptionData !== undefined ? { resumptionData: e.resumptionData } : {}),
    });
    if (c.role === 'server') {
      c.handshakeDonePending = true;
      this.confirmHandshake(now);
      const srv = c.tls as TlsServer;
      if (c.settings.issueSessionTicket && c.hasTicketSealer) {
        try {
          srv.sendSessionTicket(now, { earlyDataContext: this.earlyDataContext() });
          this.drainTls(now);
        } catch {
          // No ticket: resumption simply is not offered.
        }
      }
      if (c.settings.issueNewToken && c.tokens !== undefined) {
        c.newTokenPending = c.tokens.seal(TokenKind.NewToken, c.peerAddress.address, now);
      }
      c.receiver.replayBuffered(now);
    }
  }

  /**
   * Server: issues one more NewSessionTicket, carrying `applicationData` back to this server
   * when the client resumes with it (`handshakeCompleted.resumptionData`). False when the
   * client cannot use one (it offered no psk_dhe_ke). Throws a TypeError
   * when this is a client, the handshake is not complete, the connection is closing or the
   * server has no ticket key.
   */
  sendSessionTicket(applicationData: Uint8Array, now: number): boolean {
    const c = this.c;
    if (c.role !== 'server') throw new TypeError('only a server issues session tickets');
    if (!c.handshakeComplete) throw new TypeError('session tickets are issued once the handshake is complete');
    if (c.state !== 'established') throw new TypeError(`connection is ${c.state}`);
    if (!c.hasTicketSealer) throw new TypeError('this server has no ticket key: it issues no session tickets');
    const sent = (c.tls as TlsServer).sendSessionTicket(now, { applicationData, earlyDataContext: this.earlyDataContext() });
    this.drainTls(now);
    return sent;
  }

  /** What 0-RTT acceptance depends on: the limits we promised (RFC 9000 §7.4.1). */
  private earlyDataContext(): Uint8Array {
    const c = this.c;
    const p = c.localParams;
    return encodeTransportParameters({
      initialMaxData: p.initialMaxData,
      initialMaxStreamDataBidiLocal: p.initialMaxStreamDataBidiLocal,
      initialMaxStreamDataBidiRemote: p.initialMaxStreamDataBidiRemote,
      initialMaxStreamDataUni: p.initialMaxStreamDataUni,
      initialMaxStreamsBidi: p.initialMaxStreamsBidi,
      initialMaxStreamsUni: p.initialMaxStreamsUni,
      maxDatagramFrameSize: p.maxDatagramFrameSize,
      activeConnectionIdLimit: p.activeConnectionIdLimit,
    });
  }

  private onEarlyDataRejected(now: number): void {
    const c = this.c;
    // RFC 9000 §7.4.2 / RFC 9001 §4.6.2: everything sent in 0-RTT is lost; resend it in 1-RTT.
    c.zeroRttSend = undefined;
    const q = c.recovery.sent[PacketSpace.Application];
    let bytes = 0;
    for (let i = q.start; i < q.end; i++) {
      const p = q.at(i);
      if (p.zeroRtt && p.state === 0) {
        if (p.inFlight) bytes += p.size;
        q.markLost(p, now);
        c.onPacketLost(PacketSpace.Application, p);
      }
    }
    // RFC 9002 §6.4: rejected 0-RTT packets leave bytes in flight (no congestion signal).
    if (bytes > 0) c.cc.onPacketsDiscarded(bytes);
  }

  private onPeerTransportParameters(data: Uint8Array, now: number): void {
    const c = this.c;
    const peer = c.role === 'client' ? 'server' : 'client';
    const p = decodeTransportParameters(data, peer);
    // RFC 9000 §7.3: authenticate the connection IDs.
    const fail = (why: string): never => {
      throw new QuicError(TransportError.TRANSPORT_PARAMETER_ERROR, why);
    };
    if (p.initialSourceConnectionId === undefined) fail('initial_source_connection_id missing');
    if (c.role === 'client') {
      if (!equalBytes(p.initialSourceConnectionId!, c.peerCids.active)) fail('initial_source_connection_id does not match the server SCID');
      if (p.originalDestinationConnectionId === undefined || !equalBytes(p.originalDestinationConnectionId, c.originalDcid)) {
        fail('original_destination_connection_id does not match');
      }
      if (c.retried) {
        if (p.retrySourceConnectionId === undefined || !equalBytes(p.retrySourceConnectionId, c.retrySourceCid!)) fail('retry_source_connection_id does not match the Retry');
      } else if (p.retrySourceConnectionId !== undefined) fail('retry_source_connection_id without a Retry');
      if (p.statelessResetToken) c.peerCids.setInitial(c.peerCids.active, p.statelessResetToken);
    } else {
      const clientScid = c.peerCids.active;
      if (!equalBytes(p.initialSourceConnectionId!, clientScid)) fail('initial_source_connection_id does not match the client SCID');
    }
    if (p.versionInformation !== undefined && p.versionInformation.chosenVersion !== c.version.version) {
      throw new QuicError(TransportError.VERSION_NEGOTIATION_ERROR, 'version_information chosen version differs from the version in use');
    }
    c.peerParams = p;
    if (c.trace !== undefined) c.traceEvent('parameters_set', { owner: 'remote', ...p });
    c.peerAckDelayExponent = p.ackDelayExponent;
    c.recovery.peerMaxAckDelay = p.maxAckDelay;
    c.peerMaxDatagramFrameSize = p.maxDatagramFrameSize;
    if (p.maxIdleTimeout > 0 && (c.idleTimeout === 0 || p.maxIdleTimeout < c.idleTimeout)) c.idleTimeout = p.maxIdleTimeout;
    c.connSend.raise(p.initialMaxData);
    c.streams.setPeerLimits(streamLimitsFrom(p));
    c.localCids.setPeerLimit(p.activeConnectionIdLimit);
    c.flushCidChanges();
    c.requeueBlockedStreams();
    for (const s of c.streams.values()) if (s.local && s.send !== undefined) c.queueStream(s);
    c.transmitter.mtu.onPeerMaxUdpPayload(Math.min(p.maxUdpPayloadSize, c.settings.mtuDiscoveryMax));
    void now;
  }

  /** The handshake is confirmed (RFC 9001 §4.1.2): drop the Initial and Handshake spaces, start the timers that wait for it. */
  confirmHandshake(now: number): void {
    const c = this.c;
    if (c.handshakeConfirmed) return;
    c.handshakeConfirmed = true;
    c.peerValidatedOurAddress = true;
    c.recovery.onHandshakeConfirmed(now);
    c.discardSpace(PacketSpace.Initial, now);
    c.discardSpace(PacketSpace.Handshake, now);
    c.emit({ type: 'handshakeConfirmed' });
    if (c.trace !== undefined) c.traceEvent('connection_state_updated', { new: 'handshake_confirmed' });
    c.transmitter.onHandshakeConfirmed(now);
  }
}
