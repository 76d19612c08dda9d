import type { Connection } from './connection.js';
import { FrameType } from './frame-types.js';
import { writeShortHeader } from './packet-header-writer.js';
import { packetNumberLength, writePacketNumber } from './packet-number.js';
import { PacketSpace, type SentPacket } from './sent-packets.js';
import { SentFrame } from './sent-frames.js';
import { AEAD_TAG_LENGTH } from './protection.js';

/** Probe sizes closer than this to the known-good size are not worth another probe. */
const MIN_PROBE_STEP = 16;
/** Consecutive losses of one probe size that make it the new upper bound. */
const MAX_PROBE_FAILURES = 3;

/**
 * Datagram packetization layer path MTU discovery (DPLPMTUD, RFC 8899; RFC 9000 §14.3) for one
 * connection: once the handshake is confirmed, PING probes padded to a candidate size search
 * between the current maximum datagram size and the peer's max_udp_payload_size (the ceiling
 * first, then by bisection). An acknowledged probe raises the connection's maximum datagram
 * size; three losses of one size lower the search's upper bound. Probe losses are not
 * congestion signals (the sent record is flagged `mtuProbe`).
 */
export class MtuDiscovery {
  private ceiling = 0;
  private low = 0;
  private high = 0;
  /** Size of the next probe (0: the search is over). */
  private probeSize = 0;
  /** A probe was sent and is neither acknowledged nor lost yet. */
  probeInFlight = false;
  private failures = 0;
  /** Probes numbered below this were sent on an earlier path: their fate says nothing about this one. */
  private firstPnOfPath = 0;

  constructor(private readonly c: Connection) {}

  /** Size of a probe that may go out next (0 when none is due: search over or one in flight). */
  get pendingProbeSize(): number {
    return this.probeInFlight ? 0 : this.probeSize;
  }

  /** The peer's max_udp_payload_size (capped by our discovery maximum) bounds the search. */
  onPeerMaxUdpPayload(n: number): void {
    this.ceiling = n;
  }

  /** The handshake is confirmed: start searching if the peer allows more than we use. */
  onHandshakeConfirmed(): void {
    if (this.ceiling <= this.c.maxDatagramSize) return;
    this.low = this.c.maxDatagramSize;
    this.high = this.ceiling;
    this.next();
  }

  /**
   * The connection moved to a path whose size is not known (the connection went back to the
   * base size): the search stops until the path is validated.
   */
  onPathChange(): void {
    this.probeSize = 0;
    this.probeInFlight = false;
    this.failures = 0;
    this.firstPnOfPath = this.c.spaces[PacketSpace.Application].nextPn;
  }

  /** The active path was validated: search its size if no search is under way. */
  onPathValidated(): void {
    if (this.probeSize === 0 && !this.probeInFlight && this.c.handshakeConfirmed) this.onHandshakeConfirmed();
  }

  /** Whether a probe of `size` bytes (what the window and buffer allow now) would teach anything. */
  worthProbing(size: number): boolean {
    return size === this.probeSize || size - this.low >= MIN_PROBE_STEP;
  }

  /** Probe `pn` of `size` bytes was acknowledged: the path carries it. */
  onProbeAcked(size: number, pn: number): void {
    if (pn < this.firstPnOfPath) return;
    this.probeInFlight = false;
    this.failures = 0;
    const c = this.c;
    if (size > c.maxDatagramSize) {
      c.maxDatagramSize = size;
      c.cc.setMaxDatagramSize(size);
      c.pacer?.setMaxDatagramSize(size);
      c.traceEvent('mtu_updated', { mtu: size });
      c.emit({ type: 'pathMtuChanged', maxDatagramSize: size });
    }
    this.low = size;
    this.next();
  }

  /** Probe `pn` of `size` bytes was declared lost. */
  onProbeLost(size: number, pn: number): void {
    if (pn < this.firstPnOfPath) return;
    this.probeInFlight = false;
    if (size !== this.probeSize) return;
    this.failures++;
    if (this.failures >= MAX_PROBE_FAILURES) {
      this.failures = 0;
      this.high = size - 1;
    }
    this.next();
  }

  private next(): void {
    if (this.high - this.low < MIN_PROBE_STEP) {
      this.probeSize = 0;
      return;
    }
    // Try the ceiling first (common: the path takes the largest size), then bisect.
    this.probeSize = this.failures === 0 && this.high === this.ceiling ? this.high : (this.low + this.high + 1) >> 1;
  }

  /**
   * Writes the probe (a PING padded to `size`, alone in its datagram, RFC 9000 §14.4) as a
   * 1-RTT packet into `buf`, records it in `rec` and hands it to loss recovery. `size` is the
   * pending candidate or, when the congestion window has less room, the largest size that fits
   * (`worthProbing`): that size becomes the candidate whose losses are counted. The caller
   * checked that a probe is pending, fits `buf`, and 1-RTT keys exist. Returns the datagram length.
   */
  buildProbe(buf: Uint8Array, rec: SentPacket, now: number, size: number): number {
    const c = this.c;
    const sp = c.spaces[PacketSpace.Application];
    if (size !== this.probeSize) {
      this.probeSize = size;
      this.failures = 0;
    }
    const pn = sp.nextPn;
    const la = c.recovery.largestAcked[PacketSpace.Application]!;
    const pnLength = packetNumberLength(pn, la >= 0 ? la : undefined);
    const pnOffset = writeShortHeader(buf, 0, c.peerCids.active, pnLength, 0, false);
    writePacketNumber(buf, pnOffset, pn, pnLength);
    let p = pnOffset + pnLength;
    buf[p++] = FrameType.Ping;
    const payloadEnd = size - AEAD_TAG_LENGTH;
    buf.fill(0, p, payloadEnd);
    const end = c.oneRtt!.protect(buf, 0, pnOffset, pnLength, payloadEnd, pn);
    rec.pn = pn;
    rec.timeSent = now;
    rec.size = end;
    rec.ackEliciting = true;
    rec.inFlight = true;
    rec.zeroRtt = false;
    rec.mtuProbe = true;
    rec.frames.push(SentFrame.MtuProbe);
    sp.nextPn = pn + 1;
    c.recovery.onPacketSent(PacketSpace.Application, rec, now);
    c.pacer?.onSent(now, end);
    this.probeInFlight = true;
    c.stats.packetsSent++;
    return end;
  }
}
