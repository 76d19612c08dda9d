import type { EncryptionLevel } from '../tls/types.js';
import { fromUtf8 } from '../util/bytes.js';
import type { Connection } from './connection.js';
import type { SpaceState } from './packet-space.js';
import { QuicError, TransportError } from './errors.js';
import { FrameType, type Frame } from './frame-types.js';
import type { PacketHeader } from './packet.js';
import type { PeerPath } from './path.js';
import { PacketSpace } from './sent-packets.js';
import { RecvState, SendState, type QuicStream } from './stream.js';

/** Largest amount of CRYPTO data buffered beyond what TLS consumed (RFC 9000 §7.5). */
const MAX_CRYPTO_BUFFER = 64 * 1024;

const LEVEL_OF_SPACE: readonly EncryptionLevel[] = ['initial', 'handshake', 'oneRtt'];

/**
 * What each frame received in an authenticated packet does to the connection (RFC 9000 §19):
 * acknowledgements to loss recovery, CRYPTO data to TLS, stream data and control to the
 * streams and flow control, connection IDs, path challenges, close. Also the receive side of
 * flow control: the credit returned as the application consumes stream data.
 */
export class FrameHandler {
  constructor(private readonly c: Connection) {}

  /** Acts on one frame `f` (sent as `wireType`) of a packet of `space` with header `h`, received on `path`. */
  onFrame(f: Frame, wireType: number, space: SpaceState, h: PacketHeader, path: PeerPath, now: number): void {
    const c = this.c;
    // Closing (RFC 9000 §10.2.1): only the peer's CONNECTION_CLOSE still matters.
    if (c.state === 'closing' && f.type !== FrameType.ConnectionClose && f.type !== FrameType.ApplicationClose) return;
    switch (f.type) {
      case FrameType.Padding:
      case FrameType.Ping:
        return;
      case FrameType.Ack:
      case FrameType.AckEcn: {
        const delay = space.space === PacketSpace.Application ? (f.ackDelay * 2 ** c.peerAckDelayExponent) / 1000 : 0;
        c.recovery.onAckReceived(space.space, f.ranges, f.ranges.length >> 1, delay, now, wireType);
        if (c.trace !== undefined) c.traceMetrics();
        if (space.space === PacketSpace.Handshake && c.role === 'client') c.peerValidatedOurAddress = true;
        if (space.space === PacketSpace.Application && c.role === 'client' && c.handshakeComplete && !c.handshakeConfirmed) {
          // RFC 9001 §4.1.2: an acknowledged 1-RTT packet confirms the handshake for a client.
          c.handshake.confirmHandshake(now);
        }
        return;
      }
      case FrameType.Crypto: {
        const cr = space.cryptoRecv;
        if (f.offset + f.data.length > cr.readOffset + MAX_CRYPTO_BUFFER) {
          throw new QuicError(TransportError.CRYPTO_BUFFER_EXCEEDED, `CRYPTO data up to ${f.offset + f.data.length} exceeds the buffer`, wireType);
        }
        cr.insert(f.offset, f.data, false, wireType);
        if (cr.readable > 0) {
          const level = LEVEL_OF_SPACE[space.space]!;
          for (let bytes = cr.readSegment(); bytes.length > 0; bytes = cr.readSegment()) {
            if (c.role === 'server' && space.space === PacketSpace.Initial && c.clientHelloBytes.length < 65536) c.clientHelloBytes.push(bytes);
            c.tls.receive(level, bytes, now);
          }
          c.handshake.drainTls(now);
        }
        return;
      }
      case FrameType.Stream:
        return this.onStreamFrame(f.streamId, f.offset, f.data, f.fin, wireType, now);
      case FrameType.ResetStream: {
        const s = c.streams.lookup(f.streamId, wireType, true, false);
        if (s === undefined || s.recvState === RecvState.ResetRecvd || s.recvState === RecvState.ResetRead) return;
        const grew = s.recv!.setFinalSizeFromReset(f.finalSize, wireType);
        s.recvCredit.onReceived(grew, wireType);
        c.connRecv.onReceived(grew, wireType);
        if (s.recvState === RecvState.DataRecvd || s.recvState === RecvState.DataRead) return;
        // Bytes the application will never read still count as consumed for flow control.
        const unread = f.finalSize - s.recv!.readOffset;
        if (unread > 0) this.onConsumedCredit(s, unread, now);
        s.recvState = RecvState.ResetRecvd;
        s.peerResetCode = f.errorCode;
        c.emit({ type: 'streamReset', streamId: s.id, errorCode: f.errorCode, finalSize: f.finalSize });
        s.recvState = RecvState.ResetRead;
        c.maybeForget(s);
        return;
      }
      case FrameType.StopSending: {
        const s = c.streams.lookup(f.streamId, wireType, false, true);
        if (s === undefined) return;
        if (s.peerStopSendingCode === undefined) {
          s.peerStopSendingCode = f.errorCode;
          c.emit({ type: 'streamStopSending', streamId: s.id, errorCode: f.errorCode });
        }
        // RFC 9000 §3.5: answer with RESET_STREAM unless all data is already sent or reset.
        if (s.sendState === SendState.Ready || s.sendState === SendState.Send || s.sendState === SendState.DataSent) {
          if (s.sendState !== SendState.DataSent || !s.send!.isAllAcked) {
            s.resetCode = f.errorCode;
            s.resetFinalSize = s.send!.sentOffset; // RFC 9000 §4.5: the bytes sent, not those queued
            s.resetPending = true;
            s.sendState = SendState.ResetSent;
            s.send!.discard();
            c.queueStream(s);
          }
        }
        return;
      }
      case FrameType.NewToken:
        c.emit({ type: 'newToken', token: f.token.slice() });
        return;
      case FrameType.MaxData:
        if (c.connSend.raise(f.maximumData)) c.requeueBlockedStreams();
        return;
      case FrameType.MaxStreamData: {
        const s = c.streams.lookup(f.streamId, wireType, false, true);
        if (s === undefined) return;
        if (s.sendCredit.raise(f.maximumStreamData)) {
          c.queueStream(s);
          if (s.writeBlocked) {
            s.writeBlocked = false;
            c.emit({ type: 'streamWritable', streamId: s.id });
          }
        }
        return;
      }
      case FrameType.MaxStreamsBidi:
      case FrameType.MaxStreamsUni: {
        const bidi = f.type === FrameType.MaxStreamsBidi;
        if (c.streams.onMaxStreams(bidi, f.maximumStreams)) {
          c.emit({ type: 'streamsAvailable', bidi: c.streams.available(true), uni: c.streams.available(false) });
        }
        return;
      }
      // BLOCKED frames are surfaced when they concern the limit in force (a stale one, for a
      // limit we have since raised, says nothing new).
      case FrameType.DataBlocked:
        if (f.maximumData >= c.connRecv.limit) c.emit({ type: 'peerDataBlocked', limit: f.maximumData });
        return;
      case FrameType.StreamDataBlocked: {
        const s = c.streams.lookup(f.streamId, wireType, true, false);
        if (s !== undefined && f.maximumStreamData >= s.recvCredit.limit && s.recvState === RecvState.Recv) {
          c.emit({ type: 'peerStreamDataBlocked', streamId: s.id, limit: f.maximumStreamData });
        }
        return;
      }
      case FrameType.StreamsBlockedBidi:
      case FrameType.StreamsBlockedUni: {
        const bidi = f.type === FrameType.StreamsBlockedBidi;
        if (c.streams.peerIsBlocked(bidi, f.maximumStreams)) c.emit({ type: 'peerNeedsStreams', bidi });
        return;
      }
      case FrameType.NewConnectionId:
        c.peerCids.onNewConnectionId(f.sequenceNumber, f.retirePriorTo, f.connectionId.slice(), f.statelessResetToken.slice(), wireType);
        return;
      case FrameType.RetireConnectionId: {
        c.localCids.onRetire(f.sequenceNumber, h.dcid, wireType);
        c.flushCidChanges();
        return;
      }
      case FrameType.PathChallenge:
        c.paths.onPathChallenge(path, f.data);
        return;
      case FrameType.PathResponse:
        c.paths.onPathResponse(f.data, now);
        return;
      case FrameType.ConnectionClose:
      case FrameType.ApplicationClose: {
        const app = f.type === FrameType.ApplicationClose;
        let reason = '';
        try {
          reason = fromUtf8(f.reason);
        } catch {
          reason = '(reason is not UTF-8)';
        }
        c.enterDraining(
          { source: app ? 'peer-application' : 'peer-transport', code: f.errorCode, frameType: app ? 0 : f.frameType, reason },
          now,
        );
        return;
      }
      case FrameType.HandshakeDone:
        if (!c.handshakeConfirmed) c.handshake.confirmHandshake(now);
        return;
      case FrameType.Datagram: {
        const max = c.settings.maxDatagramFrameSize;
        if (max === 0) throw new QuicError(TransportError.PROTOCOL_VIOLATION, 'DATAGRAM frame received but not negotiated', wireType);
        if (f.data.length > max) {
          throw new QuicError(TransportError.PROTOCOL_VIOLATION, `DATAGRAM of ${f.data.length} bytes exceeds max_datagram_frame_size ${max}`, wireType);
        }
        c.emit({ type: 'datagram', data: f.data.slice() });
        return;
      }
    }
  }

  private onStreamFrame(id: number, offset: number, data: Uint8Array, fin: boolean, wireType: number, now: number): void {
    const c = this.c;
    const s = c.streams.lookup(id, wireType, true, false);
    if (s === undefined) return;
    if (s.recvState === RecvState.ResetRecvd || s.recvState === RecvState.ResetRead) return;
    const r = s.recv!;
    const end = offset + data.length;
    // Flow control first: data beyond the stream limit is an error even if it would be a duplicate.
    if (end > s.recvCredit.limit) {
      throw new QuicError(TransportError.FLOW_CONTROL_ERROR, `stream ${id} data up to ${end} beyond its limit ${s.recvCredit.limit}`, wireType);
    }
    const grew = r.insert(offset, data, fin, wireType);
    if (grew > 0) {
      s.recvCredit.onReceived(grew, wireType);
      c.connRecv.onReceived(grew, wireType);
      c.stats.streamBytesReceived += grew;
    }
    if (s.stopSendingCode !== undefined) {
      // We asked the peer to stop: discard what arrives, but keep the credit flowing.
      const n = r.readable;
      if (n > 0) {
        r.skip(n);
        this.onConsumedCredit(s, n, now);
      }
    }
    if (r.finalSize >= 0 && s.recvState === RecvState.Recv) s.recvState = RecvState.SizeKnown;
    if (r.isComplete && s.recvState === RecvState.SizeKnown) s.recvState = RecvState.DataRecvd;
    // Nothing new to read once the application has read the FIN (a retransmitted frame can still arrive).
    if ((r.readable > 0 || r.isComplete) && !s.readableSignalled && s.stopSendingCode === undefined && s.recvState !== RecvState.DataRead) {
      s.readableSignalled = true;
      c.emit({ type: 'streamReadable', streamId: s.id });
    }
    if (s.stopSendingCode !== undefined && r.isFinished && s.recvState === RecvState.DataRecvd) {
      s.recvState = RecvState.DataRead;
      c.maybeForget(s);
    }
  }

  /** The application consumed `n` bytes of stream `s`: maybe advertise more credit. */
  onConsumedCredit(s: QuicStream, n: number, now: number): void {
    const c = this.c;
    s.recvCredit.onConsumed(n);
    c.connRecv.onConsumed(n);
    const srtt = c.rtt.smoothedRtt;
    if (s.recvState === RecvState.Recv && s.recvCredit.nextLimit(now, srtt) >= 0) {
      s.maxStreamDataPending = true;
      c.connRecv.ensureWindow(s.recvCredit.window * 2);
      c.queueStream(s);
    }
    if (c.connRecv.nextLimit(now, srtt) >= 0) c.maxDataPending = true;
  }
}
