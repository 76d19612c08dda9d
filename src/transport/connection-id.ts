import { QuicError, TransportError } from './errors.js';
import { constantTimeEqual, equalBytes } from '../util/bytes.js';

/** Where new local connection IDs and their stateless reset tokens come from (the endpoint). */
export interface ConnectionIdSource {
  /** Length of every connection ID this endpoint issues (short headers need it to parse). */
  readonly length: number;
  /** A fresh connection ID. */
  generate(): Uint8Array;
  /** The stateless reset token bound to `cid` (RFC 9000 §10.3.2: derived, so the endpoint can reset statelessly). */
  resetToken(cid: Uint8Array): Uint8Array;
}

export interface IssuedConnectionId {
  readonly sequence: number;
  readonly cid: Uint8Array;
  readonly resetToken: Uint8Array;
}

/** Upper bound on connection IDs we keep issued to one peer, whatever its limit. */
const MAX_ISSUED = 8;

/**
 * Connection IDs we issued to the peer (it sends to us with them): sequence 0 is the one in
 * our first packets; more go out in NEW_CONNECTION_ID up to the peer's
 * active_connection_id_limit; RETIRE_CONNECTION_ID retires them (RFC 9000 §5.1, §19.16).
 */
export class LocalConnectionIds {
  private readonly issued: IssuedConnectionId[] = [];
  private nextSequence = 0;
  /** Sequence numbers whose NEW_CONNECTION_ID is owed (new, or lost and to resend). */
  readonly pending: number[] = [];
  /** IDs added / retired since the last call to `takeChanges` (for the endpoint's routing table). */
  readonly added: Uint8Array[] = [];
  readonly retired: Uint8Array[] = [];
  private peerLimit = 2;

  constructor(
    private readonly source: ConnectionIdSource,
    initial: Uint8Array,
  ) {
    this.issued.push({ sequence: 0, cid: initial, resetToken: source.resetToken(initial) });
    this.nextSequence = 1;
  }

  /** Every ID currently valid for reaching us. */
  get all(): readonly IssuedConnectionId[] {
    return this.issued;
  }

  get(sequence: number): IssuedConnectionId | undefined {
    return this.issued.find((c) => c.sequence === sequence);
  }

  /** Sequence 0's ID. */
  get initial(): Uint8Array | undefined {
    return this.get(0)?.cid;
  }

  has(cid: Uint8Array): boolean {
    for (const c of this.issued) if (equalBytes(c.cid, cid)) return true;
    return false;
  }

  /** The peer's active_connection_id_limit arrived: issue up to it. */
  setPeerLimit(limit: number): void {
    this.peerLimit = limit;
    this.replenish();
  }

  /** Issues new IDs until min(peer limit, our cap) are active. */
  replenish(): void {
    const want = Math.min(this.peerLimit, MAX_ISSUED);
    while (this.issued.length < want) {
      const cid = this.source.generate();
      const c = { sequence: this.nextSequence++, cid, resetToken: this.source.resetToken(cid) };
      this.issued.push(c);
      this.pending.push(c.sequence);
      this.added.push(cid);
    }
  }

  /**
   * RETIRE_CONNECTION_ID from the peer. `packetDcid` is the DCID of the packet carrying it
   * (retiring that very ID is a PROTOCOL_VIOLATION, RFC 9000 §19.16).
   */
  onRetire(sequence: number, packetDcid: Uint8Array, frameType: number): void {
    if (sequence >= this.nextSequence) {
      throw new QuicError(TransportError.PROTOCOL_VIOLATION, `retired connection ID sequence ${sequence} was never issued`, frameType);
    }
    const i = this.issued.findIndex((c) => c.sequence === sequence);
    if (i < 0) return; // already retired
    const c = this.issued[i]!;
    if (equalBytes(c.cid, packetDcid)) {
      throw new QuicError(TransportError.PROTOCOL_VIOLATION, 'peer retired the connection ID its packet was sent to', frameType);
    }
    this.issued.splice(i, 1);
    const p = this.pending.indexOf(sequence);
    if (p >= 0) this.pending.splice(p, 1);
    this.retired.push(c.cid);
    this.replenish();
  }

  /** Drops every ID (the connection is gone); all become retired for routing. */
  retireAll(): void {
    for (const c of this.issued) this.retired.push(c.cid);
    this.issued.length = 0;
    this.pending.length = 0;
  }
}

interface PeerCid {
  sequence: number;
  cid: Uint8Array;
  resetToken: Uint8Array | undefined;
}

/**
 * Connection IDs the peer issued to us (we send to it with them): sequence 0 from its
 * first packets, more from NEW_CONNECTION_ID; retire_prior_to forces retirement; at most our
 * active_connection_id_limit may be active (RFC 9000 §5.1.1–5.1.2, §19.15). Also the
 * stateless reset tokens to recognise a reset (§10.3.1).
 */
export class PeerConnectionIds {
  private readonly cids: PeerCid[] = [];
  private activeIndex = 0;
  private retirePriorTo = 0;
  /** Sequence numbers whose RETIRE_CONNECTION_ID is owed. */
  readonly retirePending: number[] = [];

  constructor(
    /** Our active_connection_id_limit. */
    private readonly limit: number,
  ) {}

  /** Sets sequence 0 (the peer's source CID), and later its reset token (server's transport parameter). */
  setInitial(cid: Uint8Array, resetToken?: Uint8Array): void {
    if (this.cids.length === 0) this.cids.push({ sequence: 0, cid, resetToken });
    else {
      const c0 = this.cids.find((c) => c.sequence === 0);
      if (c0) {
        c0.cid = cid;
        if (resetToken) c0.resetToken = resetToken;
      }
    }
  }

  /** The ID to put in outgoing packets. */
  get active(): Uint8Array {
    return this.cids[this.activeIndex]?.cid ?? new Uint8Array(0);
  }

  get activeSequence(): number {
    return this.cids[this.activeIndex]?.sequence ?? 0;
  }

  /** Number of IDs held (active or spare). */
  get count(): number {
    return this.cids.length;
  }

  onNewConnectionId(sequence: number, retirePriorTo: number, cid: Uint8Array, resetToken: Uint8Array, frameType: number): void {
    if (this.active.length === 0) {
      throw new QuicError(TransportError.PROTOCOL_VIOLATION, 'NEW_CONNECTION_ID from a peer using zero-length connection IDs', frameType);
    }
    for (const c of this.cids) {
      if (c.sequence === sequence) {
        if (!equalBytes(c.cid, cid) || (c.resetToken && !equalBytes(c.resetToken, resetToken))) {
          throw new QuicError(TransportError.PROTOCOL_VIOLATION, `connection ID sequence ${sequence} reused with different content`, frameType);
        }
        return; // retransmission
      }
      if (equalBytes(c.cid, cid)) {
        throw new QuicError(TransportError.PROTOCOL_VIOLATION, `connection ID reissued under sequence ${sequence}`, frameType);
      }
    }
    if (sequence < this.retirePriorTo) {
      // Already retired by an earlier retire_prior_to: retire at once (RFC 9000 §19.15).
      this.retirePending.push(sequence);
      return;
    }
    this.cids.push({ sequence, cid, resetToken });
    if (retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = retirePriorTo;
      const activeSeq = this.activeSequence;
      for (let i = this.cids.length - 1; i >= 0; i--) {
        const c = this.cids[i]!;
        if (c.sequence < retirePriorTo) {
          this.retirePending.push(c.sequence);
          this.cids.splice(i, 1);
        }
      }
      if (activeSeq < retirePriorTo) this.activeIndex = this.lowestIndex();
      else this.activeIndex = this.cids.findIndex((c) => c.sequence === activeSeq);
    }
    if (this.cids.length > this.limit) {
      throw new QuicError(
        TransportError.CONNECTION_ID_LIMIT_ERROR,
        `peer has ${this.cids.length} active connection IDs, above our limit of ${this.limit}`,
        frameType,
      );
    }
  }

  /** Switches to an unused ID (for migration); retires the old one. Returns false if none is spare. */
  rotate(): boolean {
    if (this.cids.length < 2) return false;
    const old = this.cids[this.activeIndex]!;
    this.cids.splice(this.activeIndex, 1);
    this.retirePending.push(old.sequence);
    this.activeIndex = this.lowestIndex();
    return true;
  }

  /** True when `token` (the last 16 bytes of a datagram) is one of the peer's reset tokens. */
  isStatelessReset(token: Uint8Array): boolean {
    for (const c of this.cids) if (c.resetToken && constantTimeEqual(c.resetToken, token)) return true;
    return false;
  }

  private lowestIndex(): number {
    let best = 0;
    for (let i = 1; i < this.cids.length; i++) if (this.cids[i]!.sequence < this.cids[best]!.sequence) best = i;
    return best;
  }
}
