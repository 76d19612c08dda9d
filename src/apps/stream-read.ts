/** Reading a stream of an `EndpointConnection` after a `streamReadable` event. */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';

/** What became of a stream after reading everything it had. */
export const ReadOutcome = {
  /** Everything readable was consumed; more may come. */
  Drained: 0,
  /** The FIN was reached. */
  Finished: 1,
  /** The stream does not exist (any more). */
  Gone: 2,
} as const;
export type ReadOutcome = (typeof ReadOutcome)[keyof typeof ReadOutcome];

/** Something that takes a stream's bytes (views valid only during the call). */
export interface ByteConsumer {
  consume(streamId: number, data: Uint8Array): void;
}

/**
 * Reads everything a stream has now (stream events are edge-triggered: one `streamReadable`
 * until the stream has been read empty), handing each piece to `consumer`.
 */
export function readAvailable(ec: EndpointConnection, streamId: number, consumer: ByteConsumer): ReadOutcome {
  for (;;) {
    const r = ec.read(streamId);
    if (r === undefined) return ReadOutcome.Gone;
    if (r.data.length > 0) consumer.consume(streamId, r.data);
    if (r.fin) return ReadOutcome.Finished;
    if (r.data.length === 0) return ReadOutcome.Drained;
  }
}

/** True for a unidirectional stream ID (RFC 9000 §2.1). */
export function isUnidirectional(streamId: number): boolean {
  return (streamId & 0x2) !== 0;
}

/** True for a stream the client opened (RFC 9000 §2.1). */
export function isClientInitiated(streamId: number): boolean {
  return (streamId & 0x1) === 0;
}
