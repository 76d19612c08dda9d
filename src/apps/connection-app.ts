/** What the application protocols have in common: how they receive connection events and report. */
import { transportErrorName } from '../transport/errors.js';
import type { ConnectionCloseInfo, ConnectionEvent } from '../transport/events.js';
import type { BodySummary } from './body-sink.js';

/** An application protocol running on one connection; it receives every event of that connection. */
export interface ConnectionApp {
  onEvent(e: ConnectionEvent): void;
}

/** Where a server protocol reports what it served (one line per message). */
export type AppLog = (message: string) => void;

/** The outcome of one download (one request). */
export interface TransferResult extends BodySummary {
  /** What was asked for (a path, or the perf size). */
  readonly what: string;
  /** Seconds from sending the request to receiving the end of the body. */
  readonly seconds: number;
  /** Bytes uploaded with the request (perf). */
  readonly uploaded: number;
  /** HTTP status (h3 only). */
  readonly status?: number;
}

/** Describes why a connection closed, e.g. `peer-transport PROTOCOL_VIOLATION: reason`. */
export function describeClose(info: ConnectionCloseInfo, applicationCodeName: (code: bigint) => string = (c) => `0x${c.toString(16)}`): string {
  const transport = info.source === 'transport' || info.source === 'peer-transport';
  const code = transport ? transportErrorName(Number(info.code)) : applicationCodeName(info.code);
  return `${info.source} ${code}${info.reason ? `: ${info.reason}` : ''}`;
}

/** A connection that ended while a request was in progress. */
export class ConnectionClosedError extends Error {
  constructor(
    readonly info: ConnectionCloseInfo,
    applicationCodeName?: (code: bigint) => string,
  ) {
    super(`connection closed (${describeClose(info, applicationCodeName)})`);
    this.name = 'ConnectionClosedError';
  }
}
