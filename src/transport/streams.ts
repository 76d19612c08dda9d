import { QuicError, TransportError } from './errors.js';
import type { Role } from './role.js';
import { QuicStream, isServerInitiated, isUnidirectional } from './stream.js';

/** Our receive-side stream settings (what we advertise). */
export interface LocalStreamSettings {
  /** initial_max_streams_bidi / _uni: how many streams the peer may open. */
  maxPeerBidi: number;
  maxPeerUni: number;
  /** initial_max_stream_data_bidi_local / _bidi_remote / _uni. */
  windowBidiLocal: number;
  windowBidiRemote: number;
  windowUni: number;
  /** Upper bound for stream receive-window auto-tuning. */
  maxStreamWindow: number;
}

/** The peer's stream limits (from its transport parameters, then MAX_STREAMS / MAX_STREAM_DATA). */
export interface PeerStreamLimits {
  maxBidi: number;
  maxUni: number;
  /** The peer's initial_max_stream_data_bidi_local: our sends on streams the *peer* opened. */
  dataBidiLocal: number;
  /** The peer's initial_max_stream_data_bidi_remote: our sends on bidi streams *we* opened. */
  dataBidiRemote: number;
  dataUni: number;
}

/** Sink for stream lifecycle notices; the connection turns them into events. */
export interface StreamObserver {
  onPeerStreamOpened(stream: QuicStream): void;
}

/**
 * All streams of a connection: ID allocation for both initiators and directions, the
 * stream-count limits both ways (MAX_STREAMS / STREAMS_BLOCKED, RFC 9000 §4.6), lookup
 * with the RFC 9000 §19 state checks (STREAM_STATE_ERROR, STREAM_LIMIT_ERROR), and
 * forgetting closed streams while keeping the peer's credit topped up.
 */
export class StreamMap {
  private readonly streams = new Map<number, QuicStream>();
  /** Streams we opened, per direction (index 0 bidi, 1 uni). */
  private readonly localOpened = [0, 0];
  /** The peer's limits on streams we open. */
  readonly localLimit = [0, 0];
  /** Streams the peer opened (highest index + 1), per direction. */
  private readonly peerOpened = [0, 0];
  /** Peer streams closed and forgotten, per direction. */
  private readonly peerClosed = [0, 0];
  /** Limit advertised to the peer, per direction. */
  readonly peerLimit: [number, number];
  /** A MAX_STREAMS frame is owed, per direction. */
  readonly maxStreamsPending = [false, false];
  /** A STREAMS_BLOCKED is owed at this limit (-1: none), per direction. */
  readonly streamsBlockedOwed = [-1, -1];
  private readonly blockedReported = [-1, -1];
  peer: PeerStreamLimits;

  constructor(
    private readonly role: Role,
    readonly local: LocalStreamSettings,
    peer: PeerStreamLimits,
    private readonly observer: StreamObserver,
  ) {
    this.peerLimit = [local.maxPeerBidi, local.maxPeerUni];
    this.peer = peer;
    this.localLimit[0] = peer.maxBidi;
    this.localLimit[1] = peer.maxUni;
  }

  get size(): number {
    return this.streams.size;
  }

  get(id: number): QuicStream | undefined {
    return this.streams.get(id);
  }

  values(): IterableIterator<QuicStream> {
    return this.streams.values();
  }

  /** How many more streams we may open in a direction now. */
  available(bidi: boolean): number {
    const d = bidi ? 0 : 1;
    return Math.max(0, this.localLimit[d]! - this.localOpened[d]!);
  }

  /** The ID the next locally opened stream of this direction would get. */
  nextLocalId(bidi: boolean): number {
    const d = bidi ? 0 : 1;
    return this.localOpened[d]! * 4 + (this.role === 'server' ? 1 : 0) + (bidi ? 0 : 2);
  }

  /** Opens a local stream, or returns undefined at the peer's limit (and owes STREAMS_BLOCKED). */
  open(bidi: boolean): QuicStream | undefined {
    const d = bidi ? 0 : 1;
    if (this.localOpened[d]! >= this.localLimit[d]!) {
      if (this.blockedReported[d] !== this.localLimit[d]) this.streamsBlockedOwed[d] = this.localLimit[d]!;
      return undefined;
    }
    const id = this.nextLocalId(bidi);
    this.localOpened[d]!++;
    const sendLimit = bidi ? this.peer.dataBidiRemote : this.peer.dataUni;
    const s = new QuicStream(id, true, sendLimit, bidi ? this.local.windowBidiLocal : 0, this.local.maxStreamWindow);
    this.streams.set(id, s);
    return s;
  }

  /** STREAMS_BLOCKED for the limit `limit` was sent. */
  markStreamsBlockedSent(bidi: boolean, limit: number): void {
    const d = bidi ? 0 : 1;
    this.blockedReported[d] = limit;
    if (this.streamsBlockedOwed[d] === limit) this.streamsBlockedOwed[d] = -1;
  }

  /**
   * The stream a frame from the peer refers to, creating peer-initiated streams (and every
   * lower-numbered one of the same type) on first mention. Returns undefined for a stream
   * that existed and is closed (the frame is then ignored). `needsRecv`/`needsSend`: the frame
   * acts on our receiving / sending part, and the stream must have one.
   */
  lookup(id: number, frameType: number, needsRecv: boolean, needsSend: boolean): QuicStream | undefined {
    const localInitiated = isServerInitiated(id) === (this.role === 'server');
    const uni = isUnidirectional(id);
    if (uni && ((needsRecv && localInitiated) || (needsSend && !localInitiated))) {
      throw new QuicError(
        TransportError.STREAM_STATE_ERROR,
        `frame not allowed on ${localInitiated ? 'our send-only' : "the peer's send-only"} stream ${id}`,
        frameType,
      );
    }
    const existing = this.streams.get(id);
    if (existing !== undefined) return existing;
    const d = uni ? 1 : 0;
    const index = Math.floor(id / 4);
    if (localInitiated) {
      if (index >= this.localOpened[d]!) {
        throw new QuicError(TransportError.STREAM_STATE_ERROR, `stream ${id} has not been opened`, frameType);
      }
      return undefined; // closed and forgotten
    }
    if (index < this.peerOpened[d]!) return undefined; // closed and forgotten
    if (index >= this.peerLimit[d]!) {
      throw new QuicError(TransportError.STREAM_LIMIT_ERROR, `stream ${id} exceeds the limit of ${this.peerLimit[d]} streams`, frameType);
    }
    let created: QuicStream | undefined;
    for (let i = this.peerOpened[d]!; i <= index; i++) {
      const sid = i * 4 + (this.role === 'server' ? 0 : 1) + (uni ? 2 : 0);
      const sendLimit = uni ? 0 : this.peer.dataBidiLocal;
      const window = uni ? this.local.windowUni : this.local.windowBidiRemote;
      const s = new QuicStream(sid, false, sendLimit, window, this.local.maxStreamWindow);
      this.streams.set(sid, s);
      created = s;
      this.observer.onPeerStreamOpened(s);
    }
    this.peerOpened[d] = index + 1;
    return created;
  }

  /** Applies a MAX_STREAMS frame; returns true when it raised the limit. */
  onMaxStreams(bidi: boolean, max: number): boolean {
    const d = bidi ? 0 : 1;
    if (max <= this.localLimit[d]!) return false;
    this.localLimit[d] = max;
    if (this.streamsBlockedOwed[d]! >= 0 && this.streamsBlockedOwed[d]! < max) this.streamsBlockedOwed[d] = -1;
    return true;
  }

  /** Whether a STREAMS_BLOCKED from the peer at `limit` means it is waiting on our current limit. */
  peerIsBlocked(bidi: boolean, limit: number): boolean {
    return limit >= this.peerLimit[bidi ? 0 : 1]!;
  }

  /** The peer's transport parameters arrived (or changed from remembered 0-RTT values). */
  setPeerLimits(peer: PeerStreamLimits): void {
    this.peer = peer;
    if (peer.maxBidi > this.localLimit[0]!) this.localLimit[0] = peer.maxBidi;
    if (peer.maxUni > this.localLimit[1]!) this.localLimit[1] = peer.maxUni;
    for (const s of this.streams.values()) {
      if (s.send === undefined) continue;
      const limit = s.local ? (s.bidi ? peer.dataBidiRemote : peer.dataUni) : peer.dataBidiLocal;
      s.sendCredit.raise(limit);
    }
  }

  /** Raises the number of streams the peer may open (setopt at runtime); owes MAX_STREAMS. */
  setPeerStreamCount(bidi: boolean, count: number): void {
    const d = bidi ? 0 : 1;
    const limit = this.peerClosed[d]! + count;
    if (limit > this.peerLimit[d]!) {
      this.peerLimit[d] = limit;
      this.maxStreamsPending[d] = true;
    }
    if (bidi) this.local.maxPeerBidi = count;
    else this.local.maxPeerUni = count;
  }

  /** Forgets a stream whose parts are both terminal; tops up the peer's stream credit. */
  remove(s: QuicStream): void {
    if (!this.streams.delete(s.id)) return;
    if (s.local) return;
    const d = s.bidi ? 0 : 1;
    this.peerClosed[d]!++;
    const initial = s.bidi ? this.local.maxPeerBidi : this.local.maxPeerUni;
    const target = this.peerClosed[d]! + initial;
    // Advertise more once half of the initial allowance is used up, like a flow-control window.
    if (target - this.peerLimit[d]! >= Math.max(1, initial / 2)) {
      this.peerLimit[d] = target;
      this.maxStreamsPending[d] = true;
    }
  }
}
