import type { CongestionController } from '../congestion/controller.js';
import type { PathAddress } from './events.js';

/** Outstanding PATH_CHALLENGE values kept per path (a retransmission carries new data, RFC 9000 §13.3). */
const MAX_CHALLENGES = 4;
/** PATH_RESPONSE frames owed on one path; further challenges wait for the next ones to be answered. */
const MAX_RESPONSES = 4;

/** Whether two UDP addresses are the same IP and port (an IPv4-mapped IPv6 address equals its IPv4 form). */
export function sameAddress(a: PathAddress, b: PathAddress): boolean {
  if (a.port !== b.port) return false;
  if (a.address === b.address) return true;
  return unmapped(a.address) === unmapped(b.address);
}

function unmapped(ip: string): string {
  const lower = ip.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/** The loss-recovery state of a path set aside while another path is tried (RFC 9000 §9.3: restored on return). */
export interface SavedPathState {
  readonly cc: CongestionController;
  readonly maxDatagramSize: number;
  readonly latestRtt: number;
  readonly minRtt: number;
  readonly smoothedRtt: number;
  readonly rttVar: number;
  readonly hasSample: boolean;
}

/**
 * One network path to the peer, named by the peer's address (we have one local address): what
 * was received from and sent to it (the anti-amplification limit of RFC 9000 §8.1 and §9.3
 * holds until it is validated), the PATH_CHALLENGE values outstanding on it with their
 * retransmission and abandon times (§8.2.1, §8.2.4), and the PATH_RESPONSE frames owed on it
 * (§8.2.2: a response goes out on the path its challenge arrived on).
 */
export class PeerPath {
  /** Bytes received from this address (datagrams attributed to the connection). */
  bytesReceived = 0;
  /** Bytes sent to this address. */
  bytesSent = 0;
  /** Challenge data sent and not yet answered, oldest first. */
  readonly challenges: Uint8Array[] = [];
  /** Whether each outstanding challenge went out in a datagram of at least 1200 bytes. */
  readonly challengePadded: boolean[] = [];
  /** A new PATH_CHALLENGE is to be sent on this path. */
  challengeOwed = false;
  /** When the next PATH_CHALLENGE is due (Infinity: none scheduled). */
  nextChallengeAt = Infinity;
  /** The retransmission interval, doubled after each challenge (RFC 9002 §6.2.1 backoff). */
  challengeInterval = 0;
  /** When validation is abandoned (Infinity: no validation under way). */
  abandonAt = Infinity;
  /** PATH_CHALLENGE data received on this path, to echo in PATH_RESPONSE frames on it. */
  readonly responses: Uint8Array[] = [];
  /** Loss-recovery state of this path while another one is in use. */
  saved: SavedPathState | undefined;

  constructor(
    /** The peer's address on this path. */
    readonly address: PathAddress,
    /** The peer proved it receives at this address (RFC 9000 §8). */
    public validated: boolean,
  ) {}

  /** Bytes that may still be sent before the anti-amplification limit (Infinity once validated). */
  get sendBudget(): number {
    return this.validated ? Infinity : Math.max(0, 3 * this.bytesReceived - this.bytesSent);
  }

  /** Whether a validation of this path is under way. */
  get validating(): boolean {
    return this.abandonAt !== Infinity;
  }

  /** Whether a PATH_CHALLENGE or PATH_RESPONSE is to be sent on this path now. */
  get owesFrames(): boolean {
    return this.challengeOwed || this.responses.length > 0;
  }

  /** Queues the echo of a received PATH_CHALLENGE; false when too many are waiting (this one is dropped). */
  queueResponse(data: Uint8Array): boolean {
    if (this.responses.length >= MAX_RESPONSES) return false;
    this.responses.push(data.slice());
    return true;
  }

  /** Starts (or restarts) validating this path: a challenge now, another after `interval` (doubling), abandoned at `abandonAt`. */
  startValidation(interval: number, abandonAt: number): void {
    this.challengeOwed = true;
    this.challengeInterval = interval;
    this.nextChallengeAt = Infinity;
    this.abandonAt = abandonAt;
  }

  /** Records a challenge just sent with `data`; the next one is due after the current interval, which then doubles. */
  onChallengeSent(data: Uint8Array, padded: boolean, now: number): void {
    if (this.challenges.length >= MAX_CHALLENGES) {
      this.challenges.shift();
      this.challengePadded.shift();
    }
    this.challenges.push(data);
    this.challengePadded.push(padded);
    this.challengeOwed = false;
    this.nextChallengeAt = now + this.challengeInterval;
    this.challengeInterval *= 2;
  }

  /**
   * Index of the outstanding challenge `data` answers, or -1 (RFC 9000 §8.2.3: a response
   * validates the path its challenge was sent on).
   */
  findChallenge(data: Uint8Array): number {
    const list = this.challenges;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      let same = c.length === data.length;
      for (let k = 0; same && k < c.length; k++) same = c[k] === data[k];
      if (same) return i;
    }
    return -1;
  }

  /** Ends any validation under way (succeeded, failed or abandoned): no challenge outstanding or owed. */
  stopValidation(): void {
    this.challenges.length = 0;
    this.challengePadded.length = 0;
    this.challengeOwed = false;
    this.nextChallengeAt = Infinity;
    this.abandonAt = Infinity;
  }
}
