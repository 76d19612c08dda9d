import { equalBytes } from '../util/bytes.js';
import { BufferReader } from './buffer-reader.js';
import type { Connection } from './connection.js';
import type { SpaceState } from './packet-space.js';
import { QuicError, TransportError } from './errors.js';
import type { ConnectionCloseInfo, PathAddress } from './events.js';
import { readFrame } from './frame.js';
import { assertFrameAllowed, isAckEliciting, isProbingFrame } from './frame-rules.js';
import { OneRttProtection, OpenedWith } from './key-update.js';
import { HeaderStatus, PacketHeader, PacketType, assertReservedBitsZero, parsePacketHeader } from './packet.js';
import { decodePacketNumber } from './packet-number.js';
import type { PeerPath } from './path.js';
import type { PacketProtection } from './protection.js';
import { qlogFrame } from './qlog.js';
import { verifyRetryIntegrity } from './retry-integrity.js';
import { PacketSpace } from './sent-packets.js';

/** Undecryptable packets kept until their keys arrive (RFC 9001 §5.7). */
const MAX_BUFFERED_PACKETS = 16;

interface BufferedPacket {
  data: Uint8Array;
  from: PathAddress;
}

/**
 * The receive path of a connection: a datagram is split into its coalesced packets, each
 * one's header is parsed in place, its destination connection ID checked, its header
 * protection removed and its payload opened with the keys of its packet number space
 * (packets whose keys are not there yet wait, RFC 9001 §5.7), duplicates dropped, and its
 * frames handed to the frame handler. A client also acts on Version Negotiation and Retry
 * packets here, and a datagram no key opens is checked for a stateless reset (RFC 9000 §10.3.1).
 */
export class PacketReceiver {
  private readonly header = new PacketHeader();
  private readonly reader = new BufferReader();
  private readonly buffered: BufferedPacket[] = [];
  /** Received packets that failed authentication (RFC 9001 §6.6 integrity limit). */
  private authenticationFailures = 0;
  /** Frames of the packet being processed, collected only while tracing. */
  private traceFrames: Record<string, unknown>[] = [];
  /** Datagrams being processed (replays of buffered packets nest). */
  private depth = 0;
  /** Keys arrived while a datagram was processed: replay buffered packets once it is done. */
  private replayOwed = false;
  /** The last packet processed carried a non-probing frame (RFC 9000 §9.1). */
  private nonProbing = false;
  /** A packet from the peer was processed (Version Negotiation and Retry are ignored after that). */
  receivedFromPeer = false;

  constructor(private readonly c: Connection) {}

  /**
   * Processes the packets of one datagram from `from` (coalesced packets in order). Packets that
   * waited for keys installed meanwhile are processed after it.
   */
  receiveDatagram(datagram: Uint8Array, from: PathAddress, now: number): void {
    this.depth++;
    try {
      this.receivePackets(datagram, from, now);
    } finally {
      this.depth--;
    }
    if (this.replayOwed && this.depth === 0) this.replayBuffered(now);
  }

  private receivePackets(datagram: Uint8Array, from: PathAddress, now: number): void {
    const c = this.c;
    const h = this.header;
    let offset = 0;
    let processedAny = false;
    while (offset < datagram.length) {
      const status = parsePacketHeader(datagram, offset, c.cidSource.length, h);
      if (status !== HeaderStatus.Ok) {
        if (!processedAny) this.maybeStatelessReset(datagram, now);
        c.stats.packetsDropped++;
        return;
      }
      const end = h.end;
      const r = this.receivePacket(h, datagram, from, now);
      if (r) processedAny = true;
      else if (!processedAny && h.type === PacketType.OneRtt) this.maybeStatelessReset(datagram, now);
      if (c.state === 'draining' || c.state === 'closed') return;
      offset = end;
    }
  }

  /** Returns true when the packet was authenticated and processed. */
  private receivePacket(h: PacketHeader, buf: Uint8Array, from: PathAddress, now: number): boolean {
    const c = this.c;
    const type = h.type;
    if (type === PacketType.VersionNegotiation) {
      this.onVersionNegotiation(h, now);
      return false;
    }
    if (type === PacketType.Retry) {
      this.onRetry(h, now);
      return false;
    }
    if (type === PacketType.UnknownVersion) return false;
    if (h.version !== 0 && h.version !== c.version.version) return false;

    // DCID must be ours (the server also accepts the client's original DCID in its first flight).
    const dcid = h.dcid;
    if (!c.localCids.has(dcid)) {
      if (!(c.role === 'server' && (type === PacketType.Initial || type === PacketType.ZeroRtt) && this.isClientInitialDcid(dcid))) {
        return false;
      }
    }

    let space: SpaceState;
    let keys: PacketProtection | OneRttProtection | undefined;
    switch (type) {
      case PacketType.Initial:
        space = c.spaces[PacketSpace.Initial];
        keys = space.recvKeys;
        break;
      case PacketType.Handshake:
        space = c.spaces[PacketSpace.Handshake];
        keys = space.recvKeys;
        break;
      case PacketType.ZeroRtt:
        if (c.role === 'client') return false;
        space = c.spaces[PacketSpace.Application];
        keys = c.zeroRttRecv;
        if (keys === undefined && c.earlyDataStatus === 'rejected') return false;
        break;
      default:
        space = c.spaces[PacketSpace.Application];
        keys = c.role === 'server' && !c.handshakeComplete ? undefined : c.oneRtt;
        break;
    }
    if (space.discarded) return false;
    if (keys === undefined) {
      this.bufferPacket(buf.subarray(h.start, h.end), from);
      return false;
    }
    const pnLength = keys.unprotectHeader(buf, h.start, h.pnOffset, h.end);
    if (pnLength === 0) return false;
    const pn = decodePacketNumber(space.largestRecv, keys.truncatedPacketNumber, pnLength * 8);
    const payloadStart = h.pnOffset + pnLength;
    // The plaintext comes back as the AEAD's own output: frames (and the stream data the
    // receive buffers keep) are views of it, never copied back into the datagram.
    const plaintext = keys.openPayloadView(buf, h.start, payloadStart, h.end, pn);
    if (plaintext === undefined) {
      c.stats.packetsDropped++;
      // RFC 9001 §6.6: forgeries are counted across all keys (Initial keys are public: not those).
      if (type !== PacketType.Initial && ++this.authenticationFailures > keys.limits.integrity) {
        throw new QuicError(TransportError.AEAD_LIMIT_REACHED, `${this.authenticationFailures} packets failed authentication`);
      }
      return false;
    }
    if (keys === c.oneRtt && c.oneRtt.lastOpenedWith === OpenedWith.Next) {
      // The peer updated its keys; ours followed. Keep the old ones for ~3 PTO.
      c.keyDiscardDeadline = now + 3 * c.recovery.ptoDuration();
      c.keyPhaseStartPn = c.spaces[PacketSpace.Application].nextPn;
      if (!c.handshakeConfirmed) {
        throw new QuicError(TransportError.KEY_UPDATE_ERROR, 'key update before the handshake was confirmed');
      }
      c.traceEvent('key_update', { generation: c.oneRtt.generation, trigger: 'remote' });
    }
    assertReservedBitsZero(buf[h.start]!);
    if (space.tracker.isDuplicate(pn)) return true;
    if (pn > space.largestRecv) space.largestRecv = pn;
    c.stats.packetsReceived++;

    if (!this.receivedFromPeer) {
      this.receivedFromPeer = true;
      c.peerCids.setInitial(h.scid.slice());
    }
    if (c.role === 'server' && type === PacketType.Handshake && !c.addressValidated) {
      c.addressValidated = true; // RFC 9000 §8.1: a Handshake packet proves the address
    }
    const n = plaintext.length;
    if (n === 0) throw new QuicError(TransportError.PROTOCOL_VIOLATION, 'packet without frames');

    const path = c.paths.pathOf(from, buf.length);
    const ackEliciting = this.processFrames(plaintext, 0, n, type, space, h, path, now);
    space.tracker.onPacketReceived(pn, ackEliciting, now, c.settings.maxAckDelay);
    if (c.trace !== undefined) this.tracePacketReceived(type, pn, h.end - h.start);
    c.lastReceive = now;
    if (c.role === 'server' && type === PacketType.Handshake) c.discardSpace(PacketSpace.Initial, now);
    if (c.role === 'server' && type === PacketType.OneRtt && c.zeroRttRecv !== undefined && c.handshakeConfirmed) {
      c.zeroRttRecv = undefined;
    }
    if (type === PacketType.OneRtt && this.nonProbing && c.state !== 'draining' && c.state !== 'closed') c.paths.onNonProbingPacket(path, pn, now);
    return true;
  }

  private isClientInitialDcid(dcid: Uint8Array): boolean {
    const c = this.c;
    // The server's Initial keys came from this DCID (original, or after our Retry, the Retry SCID).
    return c.clientChosenDcid !== undefined && equalBytes(c.clientChosenDcid, dcid);
  }

  private processFrames(
    buf: Uint8Array,
    start: number,
    end: number,
    packetType: PacketType,
    space: SpaceState,
    h: PacketHeader,
    path: PeerPath,
    now: number,
  ): boolean {
    const c = this.c;
    const r = this.reader;
    r.reset(buf, start, end);
    let ackEliciting = false;
    let nonProbing = false;
    if (c.trace !== undefined) this.traceFrames = [];
    while (r.pos < r.end) {
      const f = readFrame(r);
      assertFrameAllowed(r.frameType!, packetType, c.role);
      if (c.trace !== undefined) this.traceFrames.push(qlogFrame(f));
      if (!ackEliciting && isAckEliciting(f.type)) ackEliciting = true;
      if (!nonProbing && !isProbingFrame(f.type)) nonProbing = true;
      c.frames.onFrame(f, r.frameType!, space, h, path, now);
      if (c.state === 'draining' || c.state === 'closed') break;
    }
    this.nonProbing = nonProbing;
    return ackEliciting;
  }

  private onVersionNegotiation(h: PacketHeader, now: number): void {
    const c = this.c;
    // RFC 9000 §6.2: only a client that has not yet received anything else acts on it.
    if (c.role !== 'client' || this.receivedFromPeer || c.retried) return;
    if (!equalBytes(h.dcid, c.localCids.initial ?? new Uint8Array(0)) || !equalBytes(h.scid, c.originalDcid)) return;
    const versions = h.supportedVersions;
    if (versions.includes(c.version.version)) return; // must be ignored
    const info: ConnectionCloseInfo = {
      source: 'version-negotiation',
      code: BigInt(TransportError.VERSION_NEGOTIATION_ERROR),
      frameType: 0,
      reason: `server supports versions ${versions.map((v) => '0x' + v.toString(16)).join(', ')}, not 0x${c.version.version.toString(16)}`,
    };
    c.closeInfo = info;
    c.emit({ type: 'shutdownInitiated', info });
    c.enterClosed();
    void now;
  }

  private onRetry(h: PacketHeader, now: number): void {
    const c = this.c;
    // RFC 9000 §17.2.5.2: one Retry at most, before any other server packet.
    if (c.role !== 'client' || c.retried || this.receivedFromPeer) return;
    if (!equalBytes(h.dcid, c.localCids.initial ?? new Uint8Array(0))) return;
    if (h.tokenLength === 0) return;
    if (!verifyRetryIntegrity(c.crypto, c.version, c.originalDcid, h.packet)) return;
    if (equalBytes(h.scid, c.originalDcid)) return;
    c.retried = true;
    c.retrySourceCid = h.scid.slice();
    c.initialToken = h.token.slice();
    c.peerCids.setInitial(c.retrySourceCid);
    c.installInitialKeys(c.retrySourceCid);
    // Everything sent in Initial packets is to be sent again under the new keys.
    const q = c.recovery.sent[PacketSpace.Initial];
    for (let i = q.start; i < q.end; i++) {
      const p = q.at(i);
      if (p.state === 0) c.onPacketLost(PacketSpace.Initial, p);
    }
    const bytes = q.clear();
    if (bytes > 0) c.cc.onPacketsDiscarded(bytes);
    c.recovery.ptoCount = 0;
    c.recovery.setTimer(now);
    c.traceEvent('retry_received', { token_length: c.initialToken.length });
  }

  private bufferPacket(packet: Uint8Array, from: PathAddress): void {
    if (this.buffered.length >= MAX_BUFFERED_PACKETS) return;
    this.buffered.push({ data: packet.slice(), from });
  }

  /**
   * Processes the packets that waited for keys. Called while a datagram is being processed (a
   * CRYPTO frame completed a TLS message), it waits until that datagram is done: the packet
   * parser and frame reader are shared, and the rest of the current packet comes first.
   */
  replayBuffered(now: number): void {
    const c = this.c;
    if (this.buffered.length === 0) return;
    if (this.depth > 0) {
      this.replayOwed = true;
      return;
    }
    this.replayOwed = false;
    const list = this.buffered.splice(0);
    for (const b of list) {
      if (c.state === 'closed' || c.state === 'draining') return;
      this.receiveDatagram(b.data, b.from, now);
    }
  }

  private maybeStatelessReset(datagram: Uint8Array, now: number): void {
    const c = this.c;
    if (!c.isStatelessReset(datagram)) return;
    const info: ConnectionCloseInfo = { source: 'stateless-reset', code: 0n, frameType: 0, reason: 'stateless reset' };
    c.closeInfo = info;
    c.emit({ type: 'shutdownInitiated', info });
    c.enterClosed();
    void now;
  }

  private tracePacketReceived(packetType: PacketType, pn: number, size: number): void {
    this.c.traceEvent('packet_received', { packetType, pn, size, frames: this.traceFrames });
    this.traceFrames = [];
  }
}
