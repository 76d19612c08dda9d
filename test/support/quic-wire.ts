/**
 * Test-only tools to look at and forge what crosses the wire between the two connections of a
 * `QuicPair`: decode the packets of a datagram into frames (with the keys the connections
 * hold), and craft a protected packet carrying arbitrary frames "from" one connection — an
 * evil peer that speaks with the real keys but breaks the rules.
 */
import type { Connection } from '../../src/transport/connection.js';
import type { PathAddress } from '../../src/transport/events.js';
import { decodeFrames } from '../../src/transport/frame.js';
import { encodeFrame } from '../../src/transport/frame-encode.js';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';
import { HeaderStatus, PacketHeader, PacketType, parsePacketHeader } from '../../src/transport/packet.js';
import { LENGTH_PLACEHOLDER_SIZE, patchLongHeaderLength, writeLongHeader, writeShortHeader } from '../../src/transport/packet-header-writer.js';
import { decodePacketNumber, writePacketNumber } from '../../src/transport/packet-number.js';
import { createInitialProtection, type PacketProtection } from '../../src/transport/protection.js';
import { PacketSpace } from '../../src/transport/sent-packets.js';
import type { QuicPair } from './quic-pair.js';

/** One packet of a datagram as decoded by `wirePackets`. */
export interface WirePacket {
  type: PacketType;
  pn: number;
  /** Decoded frames; undefined when no key could open the packet. */
  frames: Frame[] | undefined;
  /** The key phase bit of a 1-RTT packet (0 otherwise). */
  keyPhase: number;
  dcid: Uint8Array;
}

const CID_LENGTH = 8;

function spaceOf(type: PacketType): PacketSpace {
  return type === PacketType.Initial ? PacketSpace.Initial : type === PacketType.Handshake ? PacketSpace.Handshake : PacketSpace.Application;
}

/**
 * Decodes the packets of `datagram`, sent by side `from` (0 client, 1 server) of `pair`, with
 * the keys the sender (or the receiver) holds right now. Call it from the network tap, when
 * the sender has just produced the datagram. Never modifies the datagram or connection state.
 */
export function wirePackets(pair: QuicPair, from: 0 | 1, datagram: Uint8Array): WirePacket[] {
  const data = datagram.slice();
  const sender = from === 0 ? pair.client : pair.server.conn;
  const receiver = from === 0 ? pair.server.conn : pair.client;
  const out: WirePacket[] = [];
  const h = new PacketHeader();
  let offset = 0;
  while (offset < data.length) {
    if (parsePacketHeader(data, offset, CID_LENGTH, h) !== HeaderStatus.Ok) break;
    const type = h.type;
    const end = h.end;
    const wp: WirePacket = { type, pn: -1, frames: undefined, keyPhase: 0, dcid: h.dcid.slice() };
    out.push(wp);
    offset = end;
    if (type === PacketType.Retry || type === PacketType.VersionNegotiation || type === PacketType.UnknownVersion) continue;
    let header: { remove(b: Uint8Array, s: number, p: number, e: number): number; truncatedPacketNumber: number } | undefined;
    let payload: { open(b: Uint8Array, s: number, ps: number, e: number, pn: number): number } | undefined;
    if (type === PacketType.Initial) {
      const c = pair.client;
      const keys = createInitialProtection(c.crypto, c.version, c.retrySourceCid ?? c.originalDcid);
      const k = from === 0 ? keys.client : keys.server;
      header = k.header;
      payload = k.payload;
    } else if (type === PacketType.Handshake) {
      const k: PacketProtection | undefined = sender?.spaces[PacketSpace.Handshake].sendKeys ?? receiver?.spaces[PacketSpace.Handshake].recvKeys;
      header = k?.header;
      payload = k?.payload;
    } else if (type === PacketType.ZeroRtt) {
      const k = sender?.zeroRttSend ?? receiver?.zeroRttRecv;
      header = k?.header;
      payload = k?.payload;
    } else if (sender?.oneRtt !== undefined) {
      header = sender.oneRtt.sendHeader;
      payload = sender.oneRtt.sendKeys;
    }
    if (header === undefined || payload === undefined || sender === undefined) continue;
    const pnLength = header.remove(data, h.start, h.pnOffset, end);
    if (pnLength === 0) continue;
    const space = sender.spaces[spaceOf(type)];
    wp.pn = decodePacketNumber(space.nextPn - 2, header.truncatedPacketNumber, pnLength * 8);
    wp.keyPhase = type === PacketType.OneRtt ? (data[h.start]! >> 2) & 1 : 0;
    const n = payload.open(data, h.start, h.pnOffset + pnLength, end, wp.pn);
    if (n < 0) continue;
    try {
      wp.frames = decodeFrames(data.subarray(h.pnOffset + pnLength, h.pnOffset + pnLength + n));
    } catch {
      wp.frames = undefined;
    }
  }
  return out;
}

/** All frames of a datagram (flattened over its packets), for quick assertions. */
export function wireFrames(pair: QuicPair, from: 0 | 1, datagram: Uint8Array): Frame[] {
  return wirePackets(pair, from, datagram).flatMap((p) => p.frames ?? []);
}

export interface CraftOptions {
  /** Packet type (default 1-RTT). */
  type?: 'initial' | 'handshake' | 'oneRtt';
  /** Use this packet number instead of the sender's next one (replays, old numbers). */
  pn?: number;
  /** Set bits in the (unprotected) first byte, e.g. reserved bits, before protection. */
  firstByteOr?: number;
}

/**
 * A packet carrying `frames` (frame objects, or raw frame bytes) protected with `sender`'s
 * current keys, as if `sender` had sent it: consumes one of its packet numbers and tells its
 * loss recovery that number was used (so the peer's ACK of it is legal). Initial packets are
 * padded to 1200 bytes.
 */
export function craftPacket(sender: Connection, frames: readonly Frame[] | Uint8Array, opts: CraftOptions = {}): Uint8Array {
  const kind = opts.type ?? 'oneRtt';
  const space = kind === 'initial' ? PacketSpace.Initial : kind === 'handshake' ? PacketSpace.Handshake : PacketSpace.Application;
  const sp = sender.spaces[space];
  const buf = new Uint8Array(4096);
  const pn = opts.pn ?? sp.nextPn;
  if (opts.pn === undefined) sp.nextPn = pn + 1;
  if (pn > sender.recovery.largestSent[space]!) sender.recovery.largestSent[space] = pn;
  const pnLength = 4;
  let pnOffset: number;
  const dcid = sender.peerCids.active;
  if (kind === 'oneRtt') {
    pnOffset = writeShortHeader(buf, 0, dcid, pnLength, 0, false);
  } else {
    const type = kind === 'initial' ? PacketType.Initial : PacketType.Handshake;
    const token = kind === 'initial' && sender.role === 'client' ? sender.initialToken : new Uint8Array(0);
    pnOffset = writeLongHeader(buf, 0, type, sender.version.version, dcid, sender.localCids.initial ?? new Uint8Array(0), token, pnLength);
  }
  buf[0]! |= opts.firstByteOr ?? 0;
  writePacketNumber(buf, pnOffset, pn, pnLength);
  let p = pnOffset + pnLength;
  if (frames instanceof Uint8Array) {
    buf.set(frames, p);
    p += frames.length;
  } else {
    for (const f of frames) p = encodeFrame(f, buf, p);
  }
  if (kind === 'initial' && sender.role === 'client') p = Math.max(p, 1200 - 16);
  if (p < pnOffset + 4) p = pnOffset + 4; // room for the header-protection sample (PADDING)
  let end: number;
  if (kind === 'oneRtt') {
    end = sender.oneRtt!.protect(buf, 0, pnOffset, pnLength, p, pn);
  } else {
    patchLongHeaderLength(buf, pnOffset - LENGTH_PLACEHOLDER_SIZE, p - pnOffset + 16);
    end = sp.sendKeys!.protect(buf, 0, pnOffset, pnLength, p, pn);
  }
  return buf.slice(0, end);
}

/** Delivers a datagram to side `to` of the pair at the network's current time. */
export function deliver(pair: QuicPair, to: 0 | 1, datagram: Uint8Array, from?: PathAddress): void {
  const net = pair.net;
  const addr = from ?? net.addresses[to === 0 ? 1 : 0];
  net.nodes[to].receive(datagram, addr, net.now);
}

/**
 * The evil peer: side `from` "sends" `frames` to the other side in one packet, delivered at
 * once (not through the simulated links).
 */
export function inject(pair: QuicPair, from: 0 | 1, frames: readonly Frame[] | Uint8Array, opts: CraftOptions = {}): void {
  const sender = from === 0 ? pair.client : pair.server.conn!;
  deliver(pair, from === 0 ? 1 : 0, craftPacket(sender, frames, opts));
}

/** Shorthand frame builders for tests. */
export const F = {
  stream(streamId: number, offset: number, data: Uint8Array | number, fin = false): Frame {
    const d = typeof data === 'number' ? new Uint8Array(data) : data;
    return { type: FrameType.Stream, streamId, offset, data: d, fin, explicitLength: true };
  },
  ping(): Frame {
    return { type: FrameType.Ping };
  },
};

/** A plain Uint8Array copy of `b` (reads may hand out Buffer views; compare content, not class). */
export function u8(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/** Everything readable on a stream now, as one plain array (reads may return one segment at a time). */
export function readStream(c: Connection, id: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let r = c.streamRead(id); r !== undefined && r.data.length > 0; r = c.streamRead(id)) parts.push(r.data);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
