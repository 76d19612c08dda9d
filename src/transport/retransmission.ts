import type { Connection } from './connection.js';
import { PacketType } from './packet.js';
import { PacketSpace, SentState, type SentPacket } from './sent-packets.js';
import { SENT_FRAME_FIELDS, SentFrame } from './sent-frames.js';
import { RecvState, SendState } from './stream.js';

/**
 * What becomes of the frames a packet carried once loss recovery decides its fate (the
 * `SentFrame` records of `SentPacket.frames`): acknowledged data is released and stream states
 * advance; lost data and control frames are queued to be sent again with their current values
 * (RFC 9000 §13.3); after a PTO, probes are given data the peer may be missing (RFC 9002 §6.2.4).
 */
export class Retransmission {
  constructor(private readonly c: Connection) {}

  /** Packet `p` of `space` was acknowledged: what it carried arrived. */
  onPacketAcked(space: PacketSpace, p: SentPacket): void {
    const c = this.c;
    if (p.ackLargest >= 0) c.spaces[space].tracker.onAckAcknowledged(p.ackLargest);
    const f = p.frames;
    for (let i = 0; i < f.length; ) {
      const kind = f[i]!;
      switch (kind) {
        case SentFrame.Stream: {
          const s = c.streams.get(f[i + 1]!);
          if (s?.send !== undefined) {
            s.send.onAcked(f[i + 2]!, f[i + 3]!, f[i + 4] === 1);
            if (s.notifyAcked && s.send.ackedOffset > s.ackedReported) {
              s.ackedReported = s.send.ackedOffset;
              c.emit({ type: 'streamDataAcked', streamId: s.id, offset: s.ackedReported });
            }
            if (s.sendState === SendState.DataSent && s.send.isAllAcked) {
              s.sendState = SendState.DataRecvd;
              c.emit({ type: 'streamSendComplete', streamId: s.id });
              c.maybeForget(s);
            }
          }
          break;
        }
        case SentFrame.Crypto:
          c.spaces[space].cryptoSend.onAcked(f[i + 1]!, f[i + 2]!, false);
          break;
        case SentFrame.ResetStream: {
          const s = c.streams.get(f[i + 1]!);
          if (s !== undefined && s.sendState === SendState.ResetSent) {
            s.sendState = SendState.ResetRecvd;
            c.maybeForget(s);
          }
          break;
        }
        case SentFrame.MtuProbe:
          c.transmitter.mtu.onProbeAcked(p.size, p.pn);
          break;
        default:
          break;
      }
      i += 1 + SENT_FRAME_FIELDS[kind]!;
    }
  }

  /** Packet `p` of `space` was declared lost: queue again what must be retransmitted. */
  onPacketLost(space: PacketSpace, p: SentPacket): void {
    const c = this.c;
    if (c.trace !== undefined) {
      const packetType = space === PacketSpace.Initial ? PacketType.Initial : space === PacketSpace.Handshake ? PacketType.Handshake : p.zeroRtt ? PacketType.ZeroRtt : PacketType.OneRtt;
      c.traceEvent('packet_lost', { packetType, pn: p.pn });
    }
    const f = p.frames;
    for (let i = 0; i < f.length; ) {
      const kind = f[i]!;
      switch (kind) {
        case SentFrame.Stream: {
          const s = c.streams.get(f[i + 1]!);
          if (s?.send !== undefined && s.sendState < SendState.ResetSent) {
            s.send.onLost(f[i + 2]!, f[i + 3]!, f[i + 4] === 1);
            c.queueStream(s);
          }
          break;
        }
        case SentFrame.Crypto: {
          const sp = c.spaces[space];
          if (!sp.discarded) sp.cryptoSend.onLost(f[i + 1]!, f[i + 2]!, false);
          break;
        }
        case SentFrame.ResetStream: {
          const s = c.streams.get(f[i + 1]!);
          if (s !== undefined && s.sendState === SendState.ResetSent) {
            s.resetPending = true;
            c.queueStream(s);
          }
          break;
        }
        case SentFrame.StopSending: {
          const s = c.streams.get(f[i + 1]!);
          if (s !== undefined && s.recvState < RecvState.DataRecvd) {
            s.stopSendingPending = true;
            c.queueStream(s);
          }
          break;
        }
        case SentFrame.MaxData:
          c.maxDataPending = true;
          break;
        case SentFrame.MaxStreamData: {
          const s = c.streams.get(f[i + 1]!);
          if (s !== undefined && s.recvState === RecvState.Recv) {
            s.maxStreamDataPending = true;
            c.queueStream(s);
          }
          break;
        }
        case SentFrame.MaxStreams:
          c.streams.maxStreamsPending[f[i + 1]!] = true;
          break;
        case SentFrame.DataBlocked:
          c.connSend.onBlockedLost(f[i + 1]!);
          break;
        case SentFrame.StreamDataBlocked: {
          const s = c.streams.get(f[i + 1]!);
          if (s !== undefined) {
            s.sendCredit.onBlockedLost(f[i + 2]!);
            c.queueStream(s);
          }
          break;
        }
        case SentFrame.StreamsBlocked: {
          const d = f[i + 1]!;
          if (c.streams.localLimit[d] === f[i + 2]!) c.streams.streamsBlockedOwed[d] = f[i + 2]!;
          break;
        }
        case SentFrame.NewConnectionId: {
          const seq = f[i + 1]!;
          if (c.localCids.get(seq) !== undefined && !c.localCids.pending.includes(seq)) c.localCids.pending.push(seq);
          break;
        }
        case SentFrame.RetireConnectionId:
          c.peerCids.retirePending.push(f[i + 1]!);
          break;
        case SentFrame.HandshakeDone:
          c.handshakeDonePending = true;
          break;
        case SentFrame.NewToken:
          c.transmitter.onNewTokenLost();
          break;
        case SentFrame.MtuProbe:
          c.transmitter.mtu.onProbeLost(p.size, p.pn);
          break;
      }
      i += 1 + SENT_FRAME_FIELDS[kind]!;
    }
  }

  /**
   * A PTO fired: the probes should carry data the peer may be missing, not just a PING
   * (RFC 9002 §6.2.4). Where a probed space has nothing new to send, the CRYPTO and STREAM
   * data of its oldest unacknowledged packet is queued again (the packet stays in flight).
   */
  queueProbeData(): void {
    const c = this.c;
    const rec = c.recovery;
    for (let space = 0 as PacketSpace; space <= PacketSpace.Application; space++) {
      if (rec.probes[space]! === 0 || c.spaces[space].discarded) continue;
      if (c.spaces[space].cryptoSend.hasSendable(Infinity)) continue;
      if (space === PacketSpace.Application && c.sendQueue.length > 0) continue;
      const q = rec.sent[space];
      for (let i = q.start; i < q.end; i++) {
        const p = q.at(i);
        if (p.state !== SentState.Outstanding || !p.ackEliciting || p.mtuProbe) continue;
        this.requeueData(space, p);
        break;
      }
    }
  }

  /** Queues the CRYPTO and STREAM data of packet `p` for sending again. */
  private requeueData(space: PacketSpace, p: SentPacket): void {
    const c = this.c;
    const f = p.frames;
    for (let i = 0; i < f.length; ) {
      const kind = f[i]!;
      if (kind === SentFrame.Crypto) {
        c.spaces[space].cryptoSend.onLost(f[i + 1]!, f[i + 2]!, false);
      } else if (kind === SentFrame.Stream) {
        const s = c.streams.get(f[i + 1]!);
        if (s?.send !== undefined && s.sendState < SendState.ResetSent) {
          s.send.onLost(f[i + 2]!, f[i + 3]!, f[i + 4] === 1);
          c.queueStream(s);
        }
      }
      i += 1 + SENT_FRAME_FIELDS[kind]!;
    }
  }
}
