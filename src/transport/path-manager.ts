import type { Connection } from './connection.js';
import { TransportError } from './errors.js';
import type { ConnectionCloseInfo, PathAddress } from './events.js';
import { FrameType } from './frame-types.js';
import { writeShortHeader } from './packet-header-writer.js';
import { packetNumberLength, writePacketNumber } from './packet-number.js';
import { PeerPath, sameAddress, type SavedPathState } from './path.js';
import { PacketSpace, type SentPacket } from './sent-packets.js';
import { AEAD_TAG_LENGTH } from './protection.js';
import { MIN_DATAGRAM_SIZE } from '../congestion/controller.js'; // RFC 9000 §8.2.1/§8.2.2: path probes are expanded to this

/** Paths the peer only probed from (probing packets), remembered to answer their challenges. */
const MAX_OTHER_PATHS = 4;
/** Bytes of a PATH_CHALLENGE or PATH_RESPONSE frame. */
const PATH_FRAME = 9;
/** Smallest probe datagram worth sending (header, one path frame, tag). */
const MIN_PROBE = 64;

/**
 * The network paths of a connection (RFC 9000 §8.2, §9): the active path datagrams go to,
 * the last validated path kept to return to, and addresses the peer probed from.
 *
 * - A PATH_CHALLENGE is answered once, with its data echoed, on the path it arrived on; on the
 *   active path with a PING, so the answer is a non-probing packet (§8.2.2, §9.3.3).
 * - Only the highest-numbered non-probing 1-RTT packet moves the connection to a new peer
 *   address (§9.3), and only once the handshake is confirmed (§9). The new address is sent no
 *   more than three times what it sent (§8.1) until a PATH_CHALLENGE sent to it is answered;
 *   challenges are resent with the PTO backoff and validation is abandoned after three times
 *   the larger of the PTO and the initial PTO (§8.2.4), returning to the last validated path
 *   (§9.3.2), or closing silently when there is none. The path left behind is challenged too
 *   (§9.3.3), so a genuine peer's answer there moves the connection back.
 * - A new path starts with a fresh congestion controller, RTT estimate and datagram size unless
 *   only the port changed (§9.4: a NAT rebinding keeps them); the state of the path left is
 *   restored on return to it. A spare peer connection ID replaces the current one on every
 *   change (§9.5), the old one being retired; without a spare the current one stays.
 * - A server that advertised disable_active_migration still follows a client that moves: §9
 *   lets it either drop such packets or validate the new path, and a NAT rebinding (the same
 *   thing seen from here) has to work.
 * - A client never moves: packets from other server addresses are discarded (§9).
 */
export class PathManager {
  /** The path datagrams go to. */
  active: PeerPath;
  /** The last validated path, kept while the active path is not (fully) validated, to return to. */
  previous: PeerPath | undefined;
  /** Other addresses the peer sent from without moving there (probing packets). */
  private readonly others: PeerPath[] = [];
  /** The path of the last datagram built. */
  transmitPath: PeerPath;
  /** @internal Something (a challenge or response) may be owed on a path other than the active one. */
  offPathOwed = false;
  /** The datagram being built carries a PATH_CHALLENGE or PATH_RESPONSE: expand it to 1200 bytes. */
  expandDatagram = false;
  /** Largest packet number of a non-probing 1-RTT packet processed. */
  private largestNonProbing = -1;
  /** The peer address the application last heard of. */
  private reported: PathAddress;

  constructor(
    private readonly c: Connection,
    initial: PathAddress,
    validated: boolean,
  ) {
    this.active = new PeerPath(initial, validated);
    this.transmitPath = this.active;
    this.reported = initial;
  }

  /** The known path with the peer at `from`, if any. */
  find(from: PathAddress): PeerPath | undefined {
    if (sameAddress(this.active.address, from)) return this.active;
    if (this.previous !== undefined && sameAddress(this.previous.address, from)) return this.previous;
    for (const p of this.others) if (sameAddress(p.address, from)) return p;
    return undefined;
  }

  /** A datagram of `bytes` arrived from `from`: counted for the anti-amplification limit of its path. */
  onDatagram(from: PathAddress, bytes: number): void {
    const a = this.active;
    if (a.address.port === from.port && a.address.address === from.address) a.bytesReceived += bytes;
    else {
      const p = this.find(from);
      if (p !== undefined) p.bytesReceived += bytes;
    }
  }

  /**
   * The path an authenticated packet from `from` arrived on; an address not seen before gets a
   * path (unvalidated), credited with the `datagramBytes` that brought the packet.
   */
  pathOf(from: PathAddress, datagramBytes: number): PeerPath {
    const known = this.find(from);
    if (known !== undefined) return known;
    const p = new PeerPath(from, false);
    p.bytesReceived = datagramBytes;
    if (this.others.length >= MAX_OTHER_PATHS) this.others.shift();
    this.others.push(p);
    return p;
  }

  /** A PATH_CHALLENGE with `data` arrived on `path`: owe it one PATH_RESPONSE there. */
  onPathChallenge(path: PeerPath, data: Uint8Array): void {
    if (path.queueResponse(data) && path !== this.active) this.offPathOwed = true;
  }

  /** A PATH_RESPONSE arrived (on any path): it validates the path whose challenge it echoes; otherwise it is ignored. */
  onPathResponse(data: Uint8Array, now: number): void {
    const a = this.active;
    let i = a.findChallenge(data);
    if (i >= 0) return this.onValidated(a, i, now);
    const prev = this.previous;
    if (prev !== undefined) {
      i = prev.findChallenge(data);
      if (i >= 0) prev.stopValidation(); // the old path still works: it stays the one to return to
    }
  }

  /**
   * A non-probing 1-RTT packet numbered `pn` was processed from `path`: the connection follows
   * the peer to a new address if this is the highest-numbered such packet (RFC 9000 §9.3).
   */
  onNonProbingPacket(path: PeerPath, pn: number, now: number): void {
    if (pn < this.largestNonProbing) return;
    this.largestNonProbing = pn;
    if (path === this.active || this.c.role === 'client' || !this.c.handshakeConfirmed) return;
    this.moveTo(path, now);
  }

  /** When a challenge is to be resent or a validation abandoned (Infinity: never). */
  deadline(): number {
    const a = this.active;
    let t = a.nextChallengeAt < a.abandonAt ? a.nextChallengeAt : a.abandonAt;
    const p = this.previous;
    if (p !== undefined) {
      if (p.nextChallengeAt < t) t = p.nextChallengeAt;
      if (p.abandonAt < t) t = p.abandonAt;
    }
    return t;
  }

  /** Resends challenges that are due; abandons validations that ran out of time. */
  onTimeout(now: number): void {
    const p = this.previous;
    if (p !== undefined) {
      if (now >= p.abandonAt) p.stopValidation(); // the old path is gone; still the one to return to
      else if (now >= p.nextChallengeAt) {
        p.challengeOwed = true;
        p.nextChallengeAt = Infinity;
        this.offPathOwed = true;
      }
    }
    const a = this.active;
    if (now >= a.abandonAt) this.onValidationFailed(now);
    else if (now >= a.nextChallengeAt) {
      a.challengeOwed = true;
      a.nextChallengeAt = Infinity;
    }
  }

  /**
   * Writes the PATH_RESPONSE frames owed on the active path (with a PING: a non-probing packet,
   * RFC 9000 §9.3.3) and its PATH_CHALLENGE if one is due, into a 1-RTT packet; asks for the
   * datagram to be expanded. `fullSize`: the datagram can reach 1200 bytes.
   */
  writeActiveFrames(buf: Uint8Array, p: number, end: number, fullSize: boolean, now: number): number {
    const a = this.active;
    const start = p;
    if (a.responses.length > 0) {
      while (a.responses.length > 0 && p + PATH_FRAME <= end) p = writePathFrame(buf, p, FrameType.PathResponse, a.responses.shift()!);
      if (p < end) buf[p++] = FrameType.Ping;
    }
    if (a.challengeOwed && p + PATH_FRAME <= end) p = this.writeChallenge(buf, p, a, fullSize, now);
    if (p > start) this.expandDatagram = true;
    return p;
  }

  /**
   * When a path other than the active one is owed a PATH_RESPONSE or PATH_CHALLENGE, writes a
   * probing datagram for it into `buf` (a 1-RTT packet with those frames, expanded to 1200 bytes
   * as far as its anti-amplification limit allows), records it in `rec` (neither in flight nor
   * ack-eliciting: it must not feed the active path's congestion control or RTT estimate,
   * RFC 9000 §9.4), makes that path the transmit path and returns the length; else 0.
   */
  buildOffPathProbe(buf: Uint8Array, rec: SentPacket, now: number): number {
    if (!this.offPathOwed) return 0;
    const c = this.c;
    let path: PeerPath | undefined;
    if (this.previous !== undefined && this.previous.owesFrames) path = this.previous;
    else for (const p of this.others) if (p.owesFrames) path = p;
    if (path === undefined) {
      this.offPathOwed = false;
      return 0;
    }
    const keys = c.oneRtt;
    if (keys === undefined || !c.handshakeComplete) return 0;
    const size = Math.min(buf.length, MIN_DATAGRAM_SIZE, path.sendBudget);
    if (size < MIN_PROBE) {
      // Nothing fits before the peer sends more from there: answer what waits then, or never.
      path.responses.length = 0;
      path.challengeOwed = false;
      return 0;
    }
    const sp = c.spaces[PacketSpace.Application];
    const pn = sp.nextPn;
    const la = c.recovery.largestAcked[PacketSpace.Application]!;
    const pnLength = packetNumberLength(pn, la >= 0 ? la : undefined);
    const pnOffset = writeShortHeader(buf, 0, c.peerCids.active, pnLength, 0, false);
    writePacketNumber(buf, pnOffset, pn, pnLength);
    let p = pnOffset + pnLength;
    const end = size - AEAD_TAG_LENGTH;
    while (path.responses.length > 0 && p + PATH_FRAME <= end) p = writePathFrame(buf, p, FrameType.PathResponse, path.responses.shift()!);
    if (path.challengeOwed && p + PATH_FRAME <= end) p = this.writeChallenge(buf, p, path, size >= MIN_DATAGRAM_SIZE, now);
    buf.fill(0, p, end); // PADDING
    const n = keys.protect(buf, 0, pnOffset, pnLength, end, pn);
    rec.pn = pn;
    rec.timeSent = now;
    rec.size = n;
    rec.ackEliciting = false;
    rec.inFlight = false;
    rec.zeroRtt = false;
    sp.nextPn = pn + 1;
    c.recovery.onPacketSent(PacketSpace.Application, rec, now);
    c.stats.packetsSent++;
    this.transmitPath = path;
    return n;
  }

  private writeChallenge(buf: Uint8Array, p: number, path: PeerPath, padded: boolean, now: number): number {
    const data = new Uint8Array(8);
    this.c.crypto.randomFill(data);
    path.onChallengeSent(data, padded, now);
    return writePathFrame(buf, p, FrameType.PathChallenge, data);
  }

  /** The PTO interval and abandon time of a validation starting now (RFC 9000 §8.2.4). */
  private startValidation(path: PeerPath, now: number): void {
    const c = this.c;
    const pto = c.recovery.ptoDuration();
    const initialPto = 3 * c.settings.initialRtt + (c.peerParams?.maxAckDelay ?? 25);
    path.startValidation(pto, now + 3 * Math.max(pto, initialPto));
  }

  private onValidated(path: PeerPath, index: number, now: number): void {
    const c = this.c;
    const padded = path.challengePadded[index]!;
    path.stopValidation();
    path.validated = true;
    if (padded) {
      // Address and path MTU both verified: the old path is no longer needed.
      this.previous?.stopValidation();
      this.previous = undefined;
      c.transmitter.mtu.onPathValidated();
    } else {
      // The address is proven but not that 1200-byte datagrams get through (RFC 9000 §8.2.3).
      this.startValidation(path, now);
    }
    this.report();
    c.recovery.setTimer(now); // the anti-amplification limit no longer holds the PTO back
  }

  private onValidationFailed(now: number): void {
    const c = this.c;
    const failed = this.active;
    failed.stopValidation();
    failed.validated = false;
    const back = this.previous;
    if (back === undefined) {
      // RFC 9000 §9.3.2: no validated path to return to: close silently.
      const info: ConnectionCloseInfo = { source: 'transport', code: BigInt(TransportError.NO_VIABLE_PATH), frameType: 0, reason: 'path validation failed with no validated path to return to' };
      c.closeInfo = info;
      c.emit({ type: 'shutdownInitiated', info });
      c.enterClosed();
      return;
    }
    c.traceEvent('path_validation_failed', { address: failed.address.address, port: failed.address.port });
    this.moveTo(back, now);
  }

  /** Makes `to` the active path (RFC 9000 §9.3). */
  private moveTo(to: PeerPath, now: number): void {
    const c = this.c;
    const from = this.active;
    const i = this.others.indexOf(to);
    if (i >= 0) this.others.splice(i, 1);
    if (to === this.previous) this.previous = undefined;
    if (from.validated) {
      this.previous?.stopValidation();
      this.previous = from;
      this.offPathOwed = true; // answers still owed there go out off-path
    } else {
      from.stopValidation();
      from.responses.length = 0;
    }
    this.active = to;
    const portOnly = from.address.port !== to.address.port && sameAddress(from.address, { address: to.address.address, port: from.address.port });
    if (to.saved !== undefined) {
      const left = this.swapPathState(to.saved, now);
      if (from.validated) from.saved = left;
      to.saved = undefined;
    } else if (!portOnly) {
      const left = this.swapPathState(undefined, now);
      if (from.validated) from.saved = left;
    }
    if (c.peerCids.count >= 2) c.peerCids.rotate();
    if (!to.validated) this.startValidation(to, now);
    if (this.previous !== undefined && !this.previous.validating) {
      // RFC 9000 §9.3.3: challenge the path left, so a genuine peer there answers with packets that bring us back.
      this.startValidation(this.previous, now);
      this.offPathOwed = true;
    }
    c.traceEvent('path_changed', { address: to.address.address, port: to.address.port, validated: to.validated, port_only: portOnly });
    if (to.validated) {
      this.report();
      c.transmitter.mtu.onPathValidated();
    }
  }

  /**
   * Installs the loss-recovery state of the path moved to (`next`, or the initial state for a
   * new path: RFC 9000 §9.4) and returns the state of the path left.
   */
  private swapPathState(next: SavedPathState | undefined, now: number): SavedPathState {
    const c = this.c;
    const r = c.rtt;
    const left: SavedPathState = {
      cc: c.cc,
      maxDatagramSize: c.maxDatagramSize,
      latestRtt: r.latestRtt,
      minRtt: r.minRtt,
      smoothedRtt: r.smoothedRtt,
      rttVar: r.rttVar,
      hasSample: r.hasSample,
    };
    if (next === undefined) r.reset();
    else {
      r.latestRtt = next.latestRtt;
      r.minRtt = next.minRtt;
      r.smoothedRtt = next.smoothedRtt;
      r.rttVar = next.rttVar;
      r.hasSample = next.hasSample;
    }
    c.maxDatagramSize = next?.maxDatagramSize ?? c.settings.initialMaxDatagramSize;
    c.cc = next?.cc ?? c.newCongestionController();
    c.recovery.onPathChange(c.cc, now);
    c.pacer?.setMaxDatagramSize(c.maxDatagramSize);
    c.transmitter.mtu.onPathChange();
    return left;
  }

  /** Tells the application about the peer's address once a different one is validated. */
  private report(): void {
    const a = this.active;
    if (!a.validated || sameAddress(a.address, this.reported)) return;
    this.reported = a.address;
    this.c.emit({ type: 'peerAddressChanged', address: a.address });
  }
}

function writePathFrame(buf: Uint8Array, p: number, type: number, data: Uint8Array): number {
  buf[p] = type;
  buf.set(data, p + 1);
  return p + PATH_FRAME;
}
