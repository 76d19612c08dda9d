import { AckTracker } from './ack-tracker.js';
import type { PacketProtection } from './protection.js';
import { PacketSpace } from './sent-packets.js';
import { StreamRecvBuffer } from './stream-recv-buffer.js';
import { StreamSendBuffer } from './stream-send-buffer.js';

/**
 * One packet number space of a connection (RFC 9000 §12.3): its keys (Initial and Handshake;
 * the application space's 1-RTT and 0-RTT keys live on the connection), the packets received
 * and the ACKs owed, the next packet number to send, and its CRYPTO stream in each direction.
 */
export class SpaceState {
  readonly tracker: AckTracker;
  readonly cryptoSend = new StreamSendBuffer();
  readonly cryptoRecv = new StreamRecvBuffer(4096);
  nextPn = 0;
  sendKeys: PacketProtection | undefined;
  recvKeys: PacketProtection | undefined;
  discarded = false;
  /** Largest packet number received and processed (for packet-number decoding). */
  largestRecv = -1;

  constructor(
    readonly space: PacketSpace,
    maxRanges: number,
    ackThreshold: number,
  ) {
    this.tracker = new AckTracker(space !== PacketSpace.Application, maxRanges, ackThreshold);
  }
}
