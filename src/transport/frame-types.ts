/**
 * QUIC frame types (RFC 9000 §19, RFC 9221 §4) and the decoded frame objects.
 *
 * A decoded frame is a plain object discriminated by `type`. Byte strings in it (stream and
 * crypto data, tokens, connection IDs, reason phrases) are views of the packet it came from:
 * copy them before the packet buffer is reused. Wire variants that only switch optional
 * fields on or off collapse into one kind with flags: every STREAM frame (0x08–0x0f) has
 * `type: FrameType.Stream` and every DATAGRAM frame (0x30–0x31) `type: FrameType.Datagram`.
 * Types whose value carries meaning keep it (ACK vs ACK_ECN, bidi vs uni, transport vs
 * application close).
 *
 * Number-typed fields saturate at 2^53-1 (see varint.ts); error codes are bigints so every
 * 62-bit value round-trips.
 */

export const FrameType = {
  Padding: 0x00,
  Ping: 0x01,
  Ack: 0x02,
  AckEcn: 0x03,
  ResetStream: 0x04,
  StopSending: 0x05,
  Crypto: 0x06,
  NewToken: 0x07,
  /** STREAM: 0x08 | OFF (0x04) | LEN (0x02) | FIN (0x01). */
  Stream: 0x08,
  MaxData: 0x10,
  MaxStreamData: 0x11,
  MaxStreamsBidi: 0x12,
  MaxStreamsUni: 0x13,
  DataBlocked: 0x14,
  StreamDataBlocked: 0x15,
  StreamsBlockedBidi: 0x16,
  StreamsBlockedUni: 0x17,
  NewConnectionId: 0x18,
  RetireConnectionId: 0x19,
  PathChallenge: 0x1a,
  PathResponse: 0x1b,
  /** CONNECTION_CLOSE signalling a transport error. */
  ConnectionClose: 0x1c,
  /** CONNECTION_CLOSE signalling an application error. */
  ApplicationClose: 0x1d,
  HandshakeDone: 0x1e,
  /** DATAGRAM without a Length field (RFC 9221). */
  Datagram: 0x30,
  /** DATAGRAM with a Length field (RFC 9221). */
  DatagramWithLength: 0x31,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** STREAM type bits (RFC 9000 §19.8). */
export const STREAM_FIN_BIT = 0x01;
export const STREAM_LEN_BIT = 0x02;
export const STREAM_OFF_BIT = 0x04;

/** Largest stream count a MAX_STREAMS or STREAMS_BLOCKED frame may carry (RFC 9000 §19.11, §19.14). */
export const MAX_STREAM_COUNT = 1n << 60n;

/** Length of a stateless reset token (RFC 9000 §10.3). */
export const STATELESS_RESET_TOKEN_LENGTH = 16;
/** Length of PATH_CHALLENGE / PATH_RESPONSE data (RFC 9000 §19.17). */
export const PATH_DATA_LENGTH = 8;

/** A run of PADDING bytes, collapsed into one frame. */
export interface PaddingFrame {
  type: typeof FrameType.Padding;
  /** Number of consecutive 0x00 bytes (at least 1). */
  length: number;
}

export interface PingFrame {
  type: typeof FrameType.Ping;
}

/** ECN counts of an ACK_ECN frame (RFC 9000 §19.3.2). */
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/** ACK (0x02) or ACK_ECN (0x03), RFC 9000 §19.3. */
export interface AckFrame {
  type: typeof FrameType.Ack | typeof FrameType.AckEcn;
  /** Largest Acknowledged (= ranges[0]). */
  largestAcknowledged: number;
  /** ACK Delay as sent: not yet scaled by the peer's ack_delay_exponent. */
  ackDelay: number;
  /**
   * Acknowledged ranges as a flat array of inclusive [largest, smallest] pairs, highest range
   * first: [l0, s0, l1, s1, …] with l0 ≥ s0 > l1 + 1, l1 ≥ s1 > …
   */
  ranges: number[];
  /** ECN counts; all 0 for type 0x02. */
  ect0: number;
  ect1: number;
  ce: number;
}

/** RESET_STREAM, RFC 9000 §19.4. */
export interface ResetStreamFrame {
  type: typeof FrameType.ResetStream;
  streamId: number;
  /** Application Protocol Error Code. */
  errorCode: bigint;
  finalSize: number;
}

/** STOP_SENDING, RFC 9000 §19.5. */
export interface StopSendingFrame {
  type: typeof FrameType.StopSending;
  streamId: number;
  /** Application Protocol Error Code. */
  errorCode: bigint;
}

/** CRYPTO, RFC 9000 §19.6. */
export interface CryptoFrame {
  type: typeof FrameType.Crypto;
  offset: number;
  data: Uint8Array;
}

/** NEW_TOKEN, RFC 9000 §19.7 (the token is never empty). */
export interface NewTokenFrame {
  type: typeof FrameType.NewToken;
  token: Uint8Array;
}

/** STREAM (0x08–0x0f), RFC 9000 §19.8. */
export interface StreamFrame {
  type: typeof FrameType.Stream;
  streamId: number;
  /** Offset of `data` in the stream (0 when the OFF bit is clear). */
  offset: number;
  data: Uint8Array;
  fin: boolean;
  /**
   * LEN bit: whether the frame carries an explicit Length. Without one the data runs to the
   * end of the packet, so an encoder must place such a frame last.
   */
  explicitLength: boolean;
}

/** MAX_DATA, RFC 9000 §19.9. */
export interface MaxDataFrame {
  type: typeof FrameType.MaxData;
  maximumData: number;
}

/** MAX_STREAM_DATA, RFC 9000 §19.10. */
export interface MaxStreamDataFrame {
  type: typeof FrameType.MaxStreamData;
  streamId: number;
  maximumStreamData: number;
}

/** MAX_STREAMS (0x12 bidirectional, 0x13 unidirectional), RFC 9000 §19.11; at most 2^60. */
export interface MaxStreamsFrame {
  type: typeof FrameType.MaxStreamsBidi | typeof FrameType.MaxStreamsUni;
  maximumStreams: number;
}

/** DATA_BLOCKED, RFC 9000 §19.12. */
export interface DataBlockedFrame {
  type: typeof FrameType.DataBlocked;
  maximumData: number;
}

/** STREAM_DATA_BLOCKED, RFC 9000 §19.13. */
export interface StreamDataBlockedFrame {
  type: typeof FrameType.StreamDataBlocked;
  streamId: number;
  maximumStreamData: number;
}

/** STREAMS_BLOCKED (0x16 bidirectional, 0x17 unidirectional), RFC 9000 §19.14; at most 2^60. */
export interface StreamsBlockedFrame {
  type: typeof FrameType.StreamsBlockedBidi | typeof FrameType.StreamsBlockedUni;
  maximumStreams: number;
}

/** NEW_CONNECTION_ID, RFC 9000 §19.15. */
export interface NewConnectionIdFrame {
  type: typeof FrameType.NewConnectionId;
  sequenceNumber: number;
  retirePriorTo: number;
  /** 1–20 bytes. */
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

/** RETIRE_CONNECTION_ID, RFC 9000 §19.16. */
export interface RetireConnectionIdFrame {
  type: typeof FrameType.RetireConnectionId;
  sequenceNumber: number;
}

/** PATH_CHALLENGE, RFC 9000 §19.17. */
export interface PathChallengeFrame {
  type: typeof FrameType.PathChallenge;
  /** 8 bytes. */
  data: Uint8Array;
}

/** PATH_RESPONSE, RFC 9000 §19.18. */
export interface PathResponseFrame {
  type: typeof FrameType.PathResponse;
  /** 8 bytes. */
  data: Uint8Array;
}

/** CONNECTION_CLOSE for a transport error (0x1c), RFC 9000 §19.19. */
export interface ConnectionCloseFrame {
  type: typeof FrameType.ConnectionClose;
  /** Transport error code. */
  errorCode: bigint;
  /** Type of the frame that triggered the error (0 when unknown). */
  frameType: number;
  /** Reason phrase bytes (UTF-8 by convention, not validated). */
  reason: Uint8Array;
}

/** CONNECTION_CLOSE for an application error (0x1d), RFC 9000 §19.19. */
export interface ApplicationCloseFrame {
  type: typeof FrameType.ApplicationClose;
  /** Application protocol error code. */
  errorCode: bigint;
  reason: Uint8Array;
}

/** HANDSHAKE_DONE, RFC 9000 §19.20. */
export interface HandshakeDoneFrame {
  type: typeof FrameType.HandshakeDone;
}

/** DATAGRAM (0x30 without length, 0x31 with), RFC 9221 §4. */
export interface DatagramFrame {
  type: typeof FrameType.Datagram;
  data: Uint8Array;
  /** Whether the frame carries an explicit Length (type 0x31); without one it must come last. */
  explicitLength: boolean;
}

/** Any decoded frame. */
export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | ApplicationCloseFrame
  | HandshakeDoneFrame
  | DatagramFrame;

/** The frame type byte a frame object is sent with (STREAM and DATAGRAM flags folded in). */
export function wireFrameType(frame: Frame): number {
  switch (frame.type) {
    case FrameType.Stream:
      return (
        FrameType.Stream |
        (frame.offset !== 0 ? STREAM_OFF_BIT : 0) |
        (frame.explicitLength ? STREAM_LEN_BIT : 0) |
        (frame.fin ? STREAM_FIN_BIT : 0)
      );
    case FrameType.Datagram:
      return frame.explicitLength ? FrameType.DatagramWithLength : FrameType.Datagram;
    default:
      return frame.type;
  }
}

/** Name of a wire frame type, e.g. `STREAM` for 0x0b, or hex for an unknown type. */
export function frameTypeName(type: number): string {
  if (type >= 0x08 && type <= 0x0f) return 'STREAM';
  const name = FRAME_NAMES[type];
  return name ?? `0x${type.toString(16)}`;
}

const FRAME_NAMES: Record<number, string> = {
  0x00: 'PADDING',
  0x01: 'PING',
  0x02: 'ACK',
  0x03: 'ACK_ECN',
  0x04: 'RESET_STREAM',
  0x05: 'STOP_SENDING',
  0x06: 'CRYPTO',
  0x07: 'NEW_TOKEN',
  0x10: 'MAX_DATA',
  0x11: 'MAX_STREAM_DATA',
  0x12: 'MAX_STREAMS_BIDI',
  0x13: 'MAX_STREAMS_UNI',
  0x14: 'DATA_BLOCKED',
  0x15: 'STREAM_DATA_BLOCKED',
  0x16: 'STREAMS_BLOCKED_BIDI',
  0x17: 'STREAMS_BLOCKED_UNI',
  0x18: 'NEW_CONNECTION_ID',
  0x19: 'RETIRE_CONNECTION_ID',
  0x1a: 'PATH_CHALLENGE',
  0x1b: 'PATH_RESPONSE',
  0x1c: 'CONNECTION_CLOSE',
  0x1d: 'CONNECTION_CLOSE_APP',
  0x1e: 'HANDSHAKE_DONE',
  0x30: 'DATAGRAM',
  0x31: 'DATAGRAM_LEN',
};
