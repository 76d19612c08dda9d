import type { Connection } from './connection.js';
import type { ConnectionCloseInfo } from './events.js';
import { TransportError } from './errors.js';
import { encodeFrame } from './frame-encode.js';
import { FrameType } from './frame-types.js';
import { PacketType } from './packet.js';
import { LENGTH_PLACEHOLDER_SIZE, patchLongHeaderLength, writeLongHeader, writeShortHeader } from './packet-header-writer.js';
import { writePacketNumber } from './packet-number.js';
import { PacketSpace } from './sent-packets.js';
import { AEAD_TAG_LENGTH } from './protection.js';
import { MIN_DATAGRAM_SIZE } from '../congestion/controller.js';

/** Longest reason phrase sent (the rest is cut). */
const MAX_REASON = 100;

/** A CONNECTION_CLOSE packet written into the datagram but not yet protected. */
interface ClosePacket {
  space: PacketSpace;
  type: PacketType;
  start: number;
  pnOffset: number;
  pnLength: number;
  payloadEnd: number;
  pn: number;
}

const EMPTY = new Uint8Array(0);

/**
 * The datagrams a connection sends in the closing state (RFC 9000 §10.2): CONNECTION_CLOSE
 * in every packet number space whose keys the peer may be using (§10.2.3), coalesced into one
 * datagram and bounded by the anti-amplification limit. An application close is sent as a
 * transport APPLICATION_ERROR in Initial and Handshake packets, so that nothing about the
 * application is revealed before 1-RTT.
 */
const DRAIN_REPLY: ConnectionCloseInfo = { source: 'transport', code: 0n, frameType: 0, reason: '' };

export class ClosePacketBuilder {
  private readonly packets: ClosePacket[] = [0, 1, 2].map(() => ({ space: 0, type: PacketType.Initial, start: 0, pnOffset: 0, pnLength: 0, payloadEnd: 0, pn: 0 }));
  private readonly encoder = new TextEncoder();

  constructor(private readonly c: Connection) {}

  /** Writes the CONNECTION_CLOSE datagram into `buf` when one is owed; returns its length (0: none). */
  build(buf: Uint8Array, now: number): number {
    const c = this.c;
    if (!c.closeFrameOwed || c.closeInfo === undefined) return 0;
    c.closeFrameOwed = false;
    // Draining: the one CONNECTION_CLOSE RFC 9000 §10.2.2 allows in answer to the peer's, with NO_ERROR.
    const info = c.state === 'draining' ? DRAIN_REPLY : c.closeInfo;
    const app = info.source === 'application';
    let limit = Math.min(buf.length, c.maxDatagramSize);
    const budget = c.paths.active.sendBudget;
    if (budget < limit) limit = budget;
    let reason = this.encoder.encode(info.reason);
    if (reason.length > MAX_REASON) reason = reason.subarray(0, MAX_REASON);
    let offset = 0;
    let count = 0;
    for (let space = 0 as PacketSpace; space <= PacketSpace.Application; space++) {
      const sp = c.spaces[space];
      if (sp.discarded) continue;
      let type: PacketType;
      if (space === PacketSpace.Application) {
        if (c.oneRtt === undefined || (c.role === 'client' && !c.handshakeComplete)) continue;
        type = PacketType.OneRtt;
      } else {
        if (sp.sendKeys === undefined) continue;
        type = space === PacketSpace.Initial ? PacketType.Initial : PacketType.Handshake;
      }
      const dcid = c.peerCids.active;
      const need = 64 + dcid.length + reason.length + (type === PacketType.Initial ? c.initialToken.length : 0);
      if (offset + need > limit) break;
      const pn = sp.nextPn;
      const pnLength = 4;
      let pnOffset: number;
      if (type === PacketType.OneRtt) pnOffset = writeShortHeader(buf, offset, dcid, pnLength, 0, false);
      else pnOffset = writeLongHeader(buf, offset, type, c.version.version, dcid, c.localCids.initial ?? EMPTY, type === PacketType.Initial && c.role === 'client' ? c.initialToken : EMPTY, pnLength);
      writePacketNumber(buf, pnOffset, pn, pnLength);
      let p = pnOffset + pnLength;
      // An application close must not reveal the application before 1-RTT: use APPLICATION_ERROR (RFC 9000 §10.2.3).
      if (app && type === PacketType.OneRtt) {
        p = encodeFrame({ type: FrameType.ApplicationClose, errorCode: info.code, reason }, buf, p);
      } else if (app) {
        p = encodeFrame({ type: FrameType.ConnectionClose, errorCode: BigInt(TransportError.APPLICATION_ERROR), frameType: 0, reason: EMPTY }, buf, p);
      } else {
        p = encodeFrame({ type: FrameType.ConnectionClose, errorCode: info.code, frameType: info.frameType, reason }, buf, p);
      }
      const pk = this.packets[count++]!;
      pk.space = space;
      pk.type = type;
      pk.start = offset;
      pk.pnOffset = pnOffset;
      pk.pnLength = pnLength;
      pk.payloadEnd = p;
      pk.pn = pn;
      offset = p + AEAD_TAG_LENGTH;
      if (type === PacketType.OneRtt) break;
    }
    // Pad a client's Initial datagram.
    if (count > 0 && this.packets[0]!.type === PacketType.Initial && c.role === 'client') {
      const total = offset;
      if (total < MIN_DATAGRAM_SIZE && limit >= MIN_DATAGRAM_SIZE) {
        const last = this.packets[count - 1]!;
        buf.fill(0, last.payloadEnd, last.payloadEnd + MIN_DATAGRAM_SIZE - total);
        last.payloadEnd += MIN_DATAGRAM_SIZE - total;
      }
    }
    let end = 0;
    for (let i = 0; i < count; i++) {
      const pk = this.packets[i]!;
      const sp = c.spaces[pk.space];
      if (pk.type !== PacketType.OneRtt) patchLongHeaderLength(buf, pk.pnOffset - LENGTH_PLACEHOLDER_SIZE, pk.payloadEnd - pk.pnOffset + AEAD_TAG_LENGTH);
      end = pk.type === PacketType.OneRtt
        ? c.oneRtt!.protect(buf, pk.start, pk.pnOffset, pk.pnLength, pk.payloadEnd, pk.pn)
        : sp.sendKeys!.protect(buf, pk.start, pk.pnOffset, pk.pnLength, pk.payloadEnd, pk.pn);
      sp.nextPn = pk.pn + 1;
    }
    void now;
    return end;
  }
}
