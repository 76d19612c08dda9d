import type { Connection } from './connection.js';
import type { SpaceState } from './packet-space.js';
import { encodeFrame, writeAckFrame, writeCryptoFrameHeader, writeDatagramFrameHeader, writeStreamFrameHeader } from './frame-encode.js';
import { FrameType } from './frame-types.js';
import type { OneRttProtection } from './key-update.js';
import { PacketType } from './packet.js';
import { LENGTH_PLACEHOLDER_SIZE, longHeaderLength, patchLongHeaderLength, writeLongHeader, writeShortHeader } from './packet-header-writer.js';
import { packetNumberLength, writePacketNumber } from './packet-number.js';
import { AEAD_TAG_LENGTH, type PacketProtection } from './protection.js';
import { MIN_DATAGRAM_SIZE } from '../congestion/controller.js';
import { PacketSpace, type SentPacket } from './sent-packets.js';
import { SentFrame } from './sent-frames.js';
import { RecvState, SendState, type QuicStream } from './stream.js';
import { varintLength } from './varint.js';
import { ClosePacketBuilder } from './close-packets.js';
import { MtuDiscovery } from './mtu-discovery.js';

/** Room an ACK frame may take in a packet before older ranges are left out. */
const MAX_ACK_BYTES = 256;

/** A packet written into the datagram but not yet protected. */
interface PendingPacket {
  space: PacketSpace;
  type: PacketType;
  start: number;
  pnOffset: number;
  pnLength: number;
  payloadEnd: number;
  pn: number;
  record: SentPacket;
  ackEliciting: boolean;
  hasAck: boolean;
  probe: boolean;
}

function pendingPacket(): PendingPacket {
  return {
    space: 0,
    type: PacketType.Initial,
    start: 0,
    pnOffset: 0,
    pnLength: 0,
    payloadEnd: 0,
    pn: 0,
    record: undefined as unknown as SentPacket,
    ackEliciting: false,
    hasAck: false,
    probe: false,
  };
}

/** The highest priority among the first `n` streams of `q`. */
function topPriority(q: readonly QuicStream[], n: number): number {
  let top = -Infinity;
  for (let k = 0; k < n; k++) if (q[k]!.priority > top) top = q[k]!.priority;
  return top;
}

/**
 * The send path of a connection: decides what goes into the next datagram (ACKs, CRYPTO,
 * control frames, stream data, datagrams, probes), coalesces packets of several spaces,
 * pads Initial datagrams, applies congestion control, pacing and the anti-amplification
 * limit, protects the packets in place, and hands loss recovery a record of each. Path MTU
 * probes come from `mtu` (DPLPMTUD), CONNECTION_CLOSE datagrams in the closing state from
 * `ClosePacketBuilder`.
 */
export class Transmitter {
  private readonly packets: PendingPacket[] = [pendingPacket(), pendingPacket(), pendingPacket()];
  private packetCount = 0;
  private readonly ackScratch: number[] = [];
  private rr = 0;
  /** Size limit of the datagram being built (MTU, buffer and anti-amplification limit). */
  private limit = 0;
  private pacingDeadline = Infinity;
  private keepAliveDeadline = Infinity;
  private newTokenInFlight = false;
  /** Path MTU discovery: its probes go out from here. */
  readonly mtu: MtuDiscovery;
  private readonly closePackets: ClosePacketBuilder;
  /** Why sending stopped, counted per `build` call that sent nothing ack-eliciting. */
  readonly stats = { cwndLimited: 0, pacingLimited: 0, amplificationLimited: 0, empty: 0, flowControlLimited: 0 };

  constructor(private readonly c: Connection) {
    this.mtu = new MtuDiscovery(c);
    this.closePackets = new ClosePacketBuilder(c);
  }

  /** Largest datagram the next `build` may write (a pending PMTU probe may exceed the current MTU). */
  get datagramRoom(): number {
    return Math.max(this.c.maxDatagramSize, this.mtu.pendingProbeSize);
  }

  /** When the transmitter wants to run (pacing, keep-alive), or Infinity. */
  deadline(): number {
    let t = this.pacingDeadline;
    if (this.keepAliveDeadline < t) t = this.keepAliveDeadline;
    return t;
  }

  onTimeout(now: number): void {
    if (now >= this.pacingDeadline) this.pacingDeadline = Infinity;
    if (now >= this.keepAliveDeadline) {
      this.keepAliveDeadline = Infinity;
      this.c.pingPending = true;
    }
  }

  onHandshakeConfirmed(now: number): void {
    this.armKeepAlive(now);
    this.mtu.onHandshakeConfirmed();
  }

  onNewTokenLost(): void {
    this.newTokenInFlight = false;
  }

  private armKeepAlive(now: number): void {
    const k = this.c.settings.keepAliveInterval;
    this.keepAliveDeadline = k > 0 ? now + k : Infinity;
  }

  /** The keep-alive interval changed: re-arm from now (only once the handshake is confirmed). */
  rearmKeepAlive(now: number): void {
    if (this.c.handshakeConfirmed) this.armKeepAlive(now);
  }

  /** Builds the next datagram into `buf`; returns its length (0: nothing to send). */
  build(buf: Uint8Array, now: number): number {
    const c = this.c;
    const paths = c.paths;
    paths.transmitPath = paths.active;
    if (c.state === 'closing' || c.state === 'draining') return this.closePackets.build(buf, now);
    if (c.handshakeHeld) return 0;
    if (this.hasAppData()) c.lifecycle.beforeAckElicitingSend(now);
    // Datagrams for another path (a PATH_RESPONSE owed there, or a PATH_CHALLENGE) go first.
    if (paths.offPathOwed) {
      const n = paths.buildOffPathProbe(buf, this.record(PacketSpace.Application), now);
      if (n > 0) {
        this.spareRecord[PacketSpace.Application] = undefined;
        return n;
      }
      paths.transmitPath = paths.active;
    }
    let limit = Math.min(buf.length, c.maxDatagramSize);
    const path = paths.active;
    if (!path.validated) {
      const budget = 3 * path.bytesReceived - path.bytesSent;
      if (budget < limit) limit = budget;
      if (limit < 64) {
        this.stats.amplificationLimited++;
        return 0;
      }
    }
    const rec = c.recovery;
    const probing = rec.probes[0]! > 0 || rec.probes[1]! > 0 || rec.probes[2]! > 0;
    // A DPLPMTUD probe is congestion controlled like any packet (RFC 8899 §3, RFC 9002 §7) and
    // goes only when nothing else is waiting, with the room the window has left: it never holds
    // frames back (a 64 KB loopback probe in a 12 KB window would stall the connection until it
    // was acknowledged, up to max_ack_delay later). Where the window cannot hold the candidate
    // size, the probe tries the largest size that fits; once the window can hold a full probe
    // beside some data, data stops short of the probe's share so that the probe is not starved.
    const probeSize = this.mtu.pendingProbeSize;
    const probeReady = probeSize > 0 && !probing && c.oneRtt !== undefined && c.handshakeConfirmed && path.validated;
    const reserve = probeReady && probeSize <= buf.length && c.cc.congestionWindow >= probeSize + 2 * limit ? probeSize : 0;
    // Congestion window: ack-eliciting packets need room; probes go regardless (RFC 9002 §7.5).
    let mayElicit = probing || c.cc.canSend(limit + reserve);
    if (mayElicit && !probing && c.pacer !== undefined && this.hasAppData()) {
      const wait = c.pacer.timeUntilSend(now, limit, c.cc.congestionWindow, c.rtt.smoothedRtt);
      if (wait > 0) {
        this.pacingDeadline = now + wait;
        mayElicit = false;
        this.stats.pacingLimited++;
      }
    } else if (!mayElicit) {
      this.stats.cwndLimited++;
    }
    // A window filled by a PMTU probe says nothing about the application's demand: an idle
    // connection stays app-limited (the probe's acknowledgment must not grow its window).
    if (!mayElicit && !probing && !this.mtu.probeInFlight) c.appLimited = false;


    this.packetCount = 0;
    this.limit = limit;
    paths.expandDatagram = false;
    let offset = 0;
    let hasInitial = false;
    let anyEliciting = false;
    for (let space = 0 as PacketSpace; space <= PacketSpace.Application; space++) {
      const sp = c.spaces[space];
      if (sp.discarded) continue;
      const payloadEnd = this.writePacket(buf, offset, limit, space, sp, now, mayElicit || this.handshakeStalled(space, sp));
      if (payloadEnd > offset) {
        const pk = this.packets[this.packetCount - 1]!;
        if (pk.type === PacketType.Initial) hasInitial = true;
        if (pk.ackEliciting) anyEliciting = true;
        offset = payloadEnd + AEAD_TAG_LENGTH; // the tag is appended when the packet is sealed
        if (pk.type === PacketType.OneRtt) break; // short header: must be last
      }
    }
    if (this.packetCount === 0) {
      if (probeReady) {
        const size = Math.min(probeSize, c.cc.sendAllowance, buf.length);
        if (this.mtu.worthProbing(size)) {
          const n = this.mtu.buildProbe(buf, this.record(PacketSpace.Application), now, size);
          this.spareRecord[PacketSpace.Application] = undefined;
          return n;
        }
      }
      if (mayElicit) {
        c.appLimited = true;
        this.stats.empty++;
      }
      return 0;
    }
    // RFC 9000 §14.1: pad datagrams with Initial packets (client always; server when ack-eliciting);
    // §8.2.1-8.2.2: datagrams with PATH_CHALLENGE or PATH_RESPONSE too, as far as the limit allows.
    if ((hasInitial && (c.role === 'client' || anyEliciting)) || paths.expandDatagram) {
      const total = offset;
      if (total < MIN_DATAGRAM_SIZE) {
        const last = this.packets[this.packetCount - 1]!;
        const pad = Math.min(MIN_DATAGRAM_SIZE - total, limit - total);
        if (pad > 0) {
          buf.fill(0, last.payloadEnd, last.payloadEnd + pad);
          last.payloadEnd += pad;
          offset += pad;
          last.record.inFlight = true;
        }
      }
    }
    return this.seal(buf, now);
  }

  /**
   * Handshake CRYPTO data waits while the window is full of application packets (0-RTT) and
   * nothing of the handshake is in flight: no PTO would ever fire to send it (the application
   * space's PTO is not armed before the handshake is confirmed, RFC 9002 §6.2.1), so it goes
   * out regardless of the window, like a probe. Once it is in flight, its own PTO takes over.
   */
  private handshakeStalled(space: PacketSpace, sp: SpaceState): boolean {
    if (space === PacketSpace.Application || this.c.handshakeConfirmed) return false;
    const sent = this.c.recovery.sent;
    if (sent[PacketSpace.Initial].ackElicitingOutstanding + sent[PacketSpace.Handshake].ackElicitingOutstanding > 0) return false;
    return sp.cryptoSend.hasSendable(Infinity);
  }

  private hasAppData(): boolean {
    return this.c.sendQueue.length > 0 || this.c.datagrams.length > 0;
  }

  /** Protects every pending packet in place and records it; returns the datagram length. */
  private seal(buf: Uint8Array, now: number): number {
    const c = this.c;
    let end = 0;
    let clientSentHandshake = false;
    for (let i = 0; i < this.packetCount; i++) {
      const pk = this.packets[i]!;
      const sp = c.spaces[pk.space];
      // Header protection samples 16 bytes at pn_offset + 4: make sure the payload is long enough.
      const minPayloadEnd = pk.pnOffset + 4;
      if (pk.payloadEnd < minPayloadEnd) {
        buf.fill(0, pk.payloadEnd, minPayloadEnd);
        pk.payloadEnd = minPayloadEnd;
      }
      if (pk.type !== PacketType.OneRtt) {
        patchLongHeaderLength(buf, pk.pnOffset - LENGTH_PLACEHOLDER_SIZE, pk.payloadEnd - pk.pnOffset + AEAD_TAG_LENGTH);
      }
      if (pk.type === PacketType.OneRtt) {
        end = (c.oneRtt as OneRttProtection).protect(buf, pk.start, pk.pnOffset, pk.pnLength, pk.payloadEnd, pk.pn);
      } else {
        const keys = pk.type === PacketType.ZeroRtt ? c.zeroRttSend! : sp.sendKeys!;
        end = (keys as PacketProtection).protect(buf, pk.start, pk.pnOffset, pk.pnLength, pk.payloadEnd, pk.pn);
      }
      const p = pk.record;
      p.pn = pk.pn;
      p.timeSent = now;
      p.size = end - pk.start;
      p.ackEliciting = pk.ackEliciting;
      p.inFlight = p.inFlight || pk.ackEliciting;
      p.zeroRtt = pk.type === PacketType.ZeroRtt;
      sp.nextPn = pk.pn + 1;
      c.recovery.onPacketSent(pk.space, p, now);
      if (c.trace !== undefined) c.traceEvent('packet_sent', { packetType: pk.type, pn: pk.pn, size: p.size, frames: p.frames.slice(), ackLargest: p.ackLargest });
      this.spareRecord[pk.space] = undefined;
      if (pk.hasAck) sp.tracker.onAckSent();
      if (pk.ackEliciting) {
        c.onAckElicitingSent(now);
        if (pk.probe && c.recovery.probes[pk.space]! > 0) c.recovery.probes[pk.space]!--;
      }
      if (p.inFlight) c.pacer?.onSent(now, p.size);
      c.stats.packetsSent++;
      if (pk.type === PacketType.Handshake && c.role === 'client') clientSentHandshake = true;
    }
    if (clientSentHandshake) c.discardSpace(PacketSpace.Initial, now); // RFC 9001 §4.9.1
    if (this.packetCount > 0 && this.packets[this.packetCount - 1]!.ackEliciting) this.armKeepAlive(now);
    return end;
  }

  private readonly spareRecord: Array<SentPacket | undefined> = [undefined, undefined, undefined];

  private record(space: PacketSpace): SentPacket {
    let r = this.spareRecord[space];
    if (r === undefined) {
      r = this.c.recovery.sent[space].acquire();
      this.spareRecord[space] = r;
    }
    r.frames.length = 0;
    r.ackLargest = -1;
    r.inFlight = false;
    r.ackEliciting = false;
    r.mtuProbe = false;
    return r;
  }

  /**
   * Writes one packet of `space` at `start` if there is anything to send; returns the end of its
   * payload (the tag is appended when it is sealed), or `start` when nothing was written.
   */
  private writePacket(buf: Uint8Array, start: number, limit: number, space: PacketSpace, sp: SpaceState, now: number, mayElicit: boolean): number {
    const c = this.c;
    let type: PacketType;
    if (space === PacketSpace.Initial) {
      if (sp.sendKeys === undefined) return start;
      type = PacketType.Initial;
    } else if (space === PacketSpace.Handshake) {
      if (sp.sendKeys === undefined) return start;
      type = PacketType.Handshake;
    } else if (c.oneRtt !== undefined && (c.role === 'server' || c.handshakeComplete)) {
      type = PacketType.OneRtt;
    } else if (c.zeroRttSend !== undefined && c.role === 'client') {
      type = PacketType.ZeroRtt;
    } else {
      return start;
    }
    const tracker = sp.tracker;
    const probe = c.recovery.probes[space]! > 0;
    const ackDue = type !== PacketType.ZeroRtt && tracker.ackPending && tracker.ackDeadline <= now;
    const elicit = mayElicit || probe;
    const hasWork = elicit && this.spaceHasWork(space, sp, type);
    if (!ackDue && !hasWork && !probe) return start;

    // Header.
    const pn = sp.nextPn;
    const pnLength = packetNumberLength(pn, c.recovery.largestAcked[space]! >= 0 ? c.recovery.largestAcked[space]! : undefined);
    const dcid = c.peerCids.active;
    let pnOffset: number;
    const headerRoom = type === PacketType.OneRtt ? 1 + dcid.length : longHeaderLength(dcid.length, c.localCids.all[0]?.cid.length ?? 0, type === PacketType.Initial ? c.initialToken.length : 0, type === PacketType.Initial);
    if (start + headerRoom + pnLength + AEAD_TAG_LENGTH + 8 > limit) return start;
    if (type === PacketType.OneRtt) {
      pnOffset = writeShortHeader(buf, start, dcid, pnLength, 0, false);
    } else {
      const scid = c.localCids.initial ?? c.localCids.all[0]!.cid;
      const token = type === PacketType.Initial && c.role === 'client' ? c.initialToken : new Uint8Array(0);
      pnOffset = writeLongHeader(buf, start, type, c.version.version, dcid, scid, token, pnLength);
    }
    writePacketNumber(buf, pnOffset, pn, pnLength);
    let p = pnOffset + pnLength;
    const end = limit - AEAD_TAG_LENGTH;
    const rec = this.record(space);
    const pk = this.packets[this.packetCount]!;
    pk.space = space;
    pk.type = type;
    pk.start = start;
    pk.pnOffset = pnOffset;
    pk.pnLength = pnLength;
    pk.pn = pn;
    pk.record = rec;
    pk.hasAck = false;
    pk.ackEliciting = false;
    pk.probe = probe;

    // ACK first: always when owed and the packet goes out anyway.
    if (type !== PacketType.ZeroRtt && tracker.ackPending && (ackDue || hasWork || probe)) {
      const q = this.writeAck(buf, p, Math.min(end, p + MAX_ACK_BYTES), sp, now);
      if (q > p) {
        rec.ackLargest = tracker.largest;
        pk.hasAck = true;
        p = q;
      }
    }
    if (elicit) {
      p = this.writeContent(buf, p, end, space, sp, type, now, pk);
      if (probe && !pk.ackEliciting && p < end) {
        buf[p++] = FrameType.Ping;
        pk.ackEliciting = true;
      }
    }
    if (p === pnOffset + pnLength) return start; // nothing fitted
    pk.payloadEnd = p;
    this.packetCount++;
    return p;
  }

  private spaceHasWork(space: PacketSpace, sp: SpaceState, type: PacketType): boolean {
    const c = this.c;
    if (sp.cryptoSend.hasSendable(Infinity) && type !== PacketType.ZeroRtt) return true;
    if (space !== PacketSpace.Application) return false;
    if (c.pingPending) return true;
    if (type === PacketType.OneRtt) {
      if (c.handshakeDonePending || c.maxDataPending || c.paths.active.owesFrames || (c.newTokenPending !== undefined && !this.newTokenInFlight)) return true;
      if (c.localCids.pending.length > 0 || c.peerCids.retirePending.length > 0) return true;
    }
    const st = c.streams;
    if (st.maxStreamsPending[0] || st.maxStreamsPending[1] || st.streamsBlockedOwed[0]! >= 0 || st.streamsBlockedOwed[1]! >= 0) return true;
    if (c.datagrams.length > 0) return true;
    if (c.connSend.blockedUnreported && this.anyStreamBlockedOnConnection()) return true;
    return c.sendQueue.length > 0;
  }

  private anyStreamBlockedOnConnection(): boolean {
    for (const s of this.c.sendQueue) if (s.send !== undefined && s.send.unsentBytes > 0) return true;
    return false;
  }

  private writeAck(buf: Uint8Array, p: number, end: number, sp: SpaceState, now: number): number {
    const c = this.c;
    const r = sp.tracker.received;
    const n = r.rangeCount;
    if (n === 0) return p;
    const ranges = this.ackScratch;
    ranges.length = 0;
    for (let i = n - 1; i >= 0; i--) ranges.push(r.end(i) - 1, r.start(i));
    const delayMs = sp.space === PacketSpace.Application ? sp.tracker.ackDelay(now) : 0;
    const delay = Math.floor((delayMs * 1000) / 2 ** c.settings.ackDelayExponent);
    // Leave out the oldest ranges until the frame fits.
    while (ranges.length >= 2) {
      const size = 1 + varintLength(ranges[0]!) + varintLength(delay) + varintLength((ranges.length >> 1) - 1) + this.rangeBytes(ranges);
      if (p + size <= end) break;
      ranges.length -= 2;
    }
    if (ranges.length < 2) return p;
    return writeAckFrame(buf, p, ranges, delay, null);
  }

  private rangeBytes(ranges: readonly number[]): number {
    let s = varintLength(ranges[0]! - ranges[1]!);
    for (let i = 2; i < ranges.length; i += 2) s += varintLength(ranges[i - 1]! - ranges[i]! - 2) + varintLength(ranges[i]! - ranges[i + 1]!);
    return s;
  }

  /** Writes the ack-eliciting content of a packet; sets `pk.ackEliciting`. */
  private writeContent(buf: Uint8Array, p: number, end: number, space: PacketSpace, sp: SpaceState, type: PacketType, now: number, pk: PendingPacket): number {
    const c = this.c;
    const rec = pk.record;
    const start = p;
    if (type === PacketType.OneRtt) {
      if (c.handshakeDonePending && p + 1 <= end) {
        buf[p++] = FrameType.HandshakeDone;
        rec.frames.push(SentFrame.HandshakeDone);
        c.handshakeDonePending = false;
      }
      if (c.paths.active.owesFrames) p = c.paths.writeActiveFrames(buf, p, end, this.limit >= MIN_DATAGRAM_SIZE, now);
    }
    // CRYPTO.
    if (type !== PacketType.ZeroRtt) p = this.writeCrypto(buf, p, end, sp, rec);
    if (space === PacketSpace.Application) {
      if (c.pingPending && p + 1 <= end) {
        buf[p++] = FrameType.Ping;
        c.pingPending = false;
      }
      if (type === PacketType.OneRtt) p = this.writeConnectionControl(buf, p, end, rec, now);
      p = this.writeStreamsControl(buf, p, end, rec);
      p = this.writeDatagrams(buf, p, end);
      p = this.writeStreams(buf, p, end, rec);
    }
    if (p > start) pk.ackEliciting = true;
    return p;
  }

  private writeCrypto(buf: Uint8Array, p: number, end: number, sp: SpaceState, rec: SentPacket): number {
    const cs = sp.cryptoSend;
    for (;;) {
      const off = cs.peek(Infinity);
      if (off < 0) return p;
      const hdr = 1 + varintLength(off) + 2;
      const room = end - p - hdr;
      if (room <= 0) return p;
      const len = cs.take(off, Math.min(room, 16383), Infinity);
      if (len === 0) return p;
      p = writeCryptoFrameHeader(buf, p, off, len);
      cs.copyOut(off, len, buf, p);
      p += len;
      rec.frames.push(SentFrame.Crypto, off, len);
    }
  }

  private writeConnectionControl(buf: Uint8Array, p: number, end: number, rec: SentPacket, now: number): number {
    const c = this.c;
    if (c.maxDataPending && p + 9 <= end) {
      p = encodeFrame({ type: FrameType.MaxData, maximumData: c.connRecv.limit }, buf, p);
      rec.frames.push(SentFrame.MaxData);
      c.maxDataPending = false;
    }
    const lc = c.localCids;
    while (lc.pending.length > 0 && p + 1 + 8 + 8 + 1 + 20 + 16 <= end) {
      const seq = lc.pending.shift()!;
      const id = lc.get(seq);
      if (id === undefined) continue;
      p = encodeFrame(
        { type: FrameType.NewConnectionId, sequenceNumber: seq, retirePriorTo: 0, connectionId: id.cid, statelessResetToken: id.resetToken },
        buf,
        p,
      );
      rec.frames.push(SentFrame.NewConnectionId, seq);
    }
    const pc = c.peerCids;
    while (pc.retirePending.length > 0 && p + 9 <= end) {
      const seq = pc.retirePending.shift()!;
      p = encodeFrame({ type: FrameType.RetireConnectionId, sequenceNumber: seq }, buf, p);
      rec.frames.push(SentFrame.RetireConnectionId, seq);
    }
    const tok = c.newTokenPending;
    if (tok !== undefined && !this.newTokenInFlight && p + 1 + 2 + tok.length <= end) {
      p = encodeFrame({ type: FrameType.NewToken, token: tok }, buf, p);
      rec.frames.push(SentFrame.NewToken);
      this.newTokenInFlight = true;
    }
    void now;
    return p;
  }

  private writeStreamsControl(buf: Uint8Array, p: number, end: number, rec: SentPacket): number {
    const c = this.c;
    const st = c.streams;
    for (let d = 0; d < 2; d++) {
      if (st.maxStreamsPending[d] && p + 9 <= end) {
        p = encodeFrame({ type: d === 0 ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni, maximumStreams: st.peerLimit[d]! }, buf, p);
        rec.frames.push(SentFrame.MaxStreams, d);
        st.maxStreamsPending[d] = false;
      }
      const owed = st.streamsBlockedOwed[d]!;
      if (owed >= 0 && p + 9 <= end) {
        p = encodeFrame({ type: d === 0 ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni, maximumStreams: owed }, buf, p);
        rec.frames.push(SentFrame.StreamsBlocked, d, owed);
        st.markStreamsBlockedSent(d === 0, owed);
      }
    }
    if (c.connSend.blockedUnreported && this.anyStreamBlockedOnConnection() && p + 9 <= end) {
      p = encodeFrame({ type: FrameType.DataBlocked, maximumData: c.connSend.limit }, buf, p);
      rec.frames.push(SentFrame.DataBlocked, c.connSend.limit);
      c.connSend.markBlockedReported();
    }
    return p;
  }

  private writeDatagrams(buf: Uint8Array, p: number, end: number): number {
    const q = this.c.datagrams;
    while (q.length > 0) {
      const d = q[0]!;
      const need = 1 + varintLength(d.length) + d.length;
      if (p + need > end) break;
      q.shift();
      p = writeDatagramFrameHeader(buf, p, d.length, true);
      buf.set(d, p);
      p += d.length;
    }
    return p;
  }

  /**
   * Stream control frames and data, round-robin over the send queue. Data goes from the streams
   * of the highest priority queued; lower ones wait (their control frames do not).
   */
  private writeStreams(buf: Uint8Array, p: number, end: number, rec: SentPacket): number {
    const c = this.c;
    const q = c.sendQueue;
    let n = q.length;
    if (n === 0) return p;
    if (this.rr >= n) this.rr = 0;
    let i = this.rr;
    let visited = 0;
    let top = topPriority(q, n);
    while (visited < n && end - p > 8) {
      const s = q[i]!;
      p = this.writeStreamControl(buf, p, end, s, rec);
      if (s.priority >= top) p = this.writeStreamData(buf, p, end, s, rec);
      if (!s.wantsToSend(c.connSend.available) || s.isClosed) {
        // Nothing more from this stream: take it out of the queue.
        s.queued = false;
        q[i] = q[n - 1]!;
        q.pop();
        n--;
        if (n === 0) break;
        if (i >= n) i = 0;
        if (s.priority >= top) top = topPriority(q, n);
      } else {
        i = (i + 1) % n;
      }
      visited++;
    }
    this.rr = i;
    return p;
  }

  private writeStreamControl(buf: Uint8Array, p: number, end: number, s: QuicStream, rec: SentPacket): number {
    const c = this.c;
    if (s.resetPending && p + 25 <= end) {
      p = encodeFrame({ type: FrameType.ResetStream, streamId: s.id, errorCode: s.resetCode ?? 0n, finalSize: s.resetFinalSize }, buf, p);
      rec.frames.push(SentFrame.ResetStream, s.id);
      s.resetPending = false;
    }
    if (s.stopSendingPending && p + 17 <= end) {
      p = encodeFrame({ type: FrameType.StopSending, streamId: s.id, errorCode: s.stopSendingCode ?? 0n }, buf, p);
      rec.frames.push(SentFrame.StopSending, s.id);
      s.stopSendingPending = false;
    }
    if (s.maxStreamDataPending && p + 17 <= end) {
      if (s.recvState === RecvState.Recv) {
        p = encodeFrame({ type: FrameType.MaxStreamData, streamId: s.id, maximumStreamData: s.recvCredit.limit }, buf, p);
        rec.frames.push(SentFrame.MaxStreamData, s.id);
      }
      s.maxStreamDataPending = false;
    }
    if (s.streamDataBlockedOwed && p + 17 <= end) {
      p = encodeFrame({ type: FrameType.StreamDataBlocked, streamId: s.id, maximumStreamData: s.sendCredit.limit }, buf, p);
      rec.frames.push(SentFrame.StreamDataBlocked, s.id, s.sendCredit.limit);
      s.sendCredit.markBlockedReported();
      s.writeBlocked = true;
    }
    void c;
    return p;
  }

  private writeStreamData(buf: Uint8Array, p: number, end: number, s: QuicStream, rec: SentPacket): number {
    const c = this.c;
    const send = s.send;
    if (send === undefined || s.sendState >= SendState.ResetSent) return p;
    const sentBefore = send.sentOffset;
    const limit = Math.min(s.sendCredit.limit, sentBefore + c.connSend.available);
    const off = send.peek(limit);
    if (off < 0) {
      if (send.unsentBytes > 0) this.stats.flowControlLimited++;
      return p;
    }
    const base = 1 + varintLength(s.id) + (off !== 0 ? varintLength(off) : 0);
    // The Length field takes 2 bytes up to 16383, 4 above (large PMTUs).
    const room = end - p - base - (end - p - base - 2 > 16383 ? 4 : 2);
    if (room <= 0 && !(send.unsentBytes === 0 && send.isFinQueued)) return p;
    const len = send.take(off, Math.max(0, room), limit);
    const fin = send.takenFin;
    if (len === 0 && !fin && !send.takenAnnounce) return p;
    p = writeStreamFrameHeader(buf, p, s.id, off, len, fin, true);
    send.copyOut(off, len, buf, p);
    p += len;
    rec.frames.push(SentFrame.Stream, s.id, off, len, fin ? 1 : 0);
    const sentAfter = send.sentOffset;
    if (sentAfter > sentBefore) {
      c.connSend.used += sentAfter - sentBefore;
      c.stats.streamBytesSent += sentAfter - sentBefore;
    }
    if (sentAfter > s.sendCredit.used) s.sendCredit.used = sentAfter;
    return p;
  }
}
