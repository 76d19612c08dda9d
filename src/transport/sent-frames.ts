/**
 * What a sent packet carried that matters once it is acknowledged or lost, recorded as flat
 * numbers in `SentPacket.frames`: a kind, then the kind's fields. Frames that are never
 * retransmitted (PADDING, PING, ACK — tracked separately —, PATH_*, DATAGRAM) leave no record.
 */
export const SentFrame = {
  /** streamId, offset, length, fin (0/1) */
  Stream: 1,
  /** offset, length (the packet's space gives the level) */
  Crypto: 2,
  /** streamId */
  ResetStream: 3,
  /** streamId */
  StopSending: 4,
  /** (the current value is resent) */
  MaxData: 5,
  /** streamId */
  MaxStreamData: 6,
  /** direction (0 bidi, 1 uni) */
  MaxStreams: 7,
  /** limit */
  DataBlocked: 8,
  /** streamId, limit */
  StreamDataBlocked: 9,
  /** direction, limit */
  StreamsBlocked: 10,
  /** sequence */
  NewConnectionId: 11,
  /** sequence */
  RetireConnectionId: 12,
  HandshakeDone: 13,
  NewToken: 14,
  /** (a DPLPMTUD probe of the packet's size) */
  MtuProbe: 15,
} as const;
export type SentFrame = (typeof SentFrame)[keyof typeof SentFrame];

/** Number of fields after the kind, per kind. */
export const SENT_FRAME_FIELDS: readonly number[] = [0, 4, 2, 1, 1, 0, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0];
