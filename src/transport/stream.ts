import { ReceiveCredit, SendCredit } from './flow-control.js';
import { StreamRecvBuffer } from './stream-recv-buffer.js';
import { StreamSendBuffer } from './stream-send-buffer.js';

/** Sending-part states (RFC 9000 §3.1). */
export const SendState = {
  Ready: 0,
  Send: 1,
  DataSent: 2,
  DataRecvd: 3,
  ResetSent: 4,
  ResetRecvd: 5,
} as const;
export type SendState = (typeof SendState)[keyof typeof SendState];

/** Receiving-part states (RFC 9000 §3.2). */
export const RecvState = {
  Recv: 0,
  SizeKnown: 1,
  DataRecvd: 2,
  DataRead: 3,
  ResetRecvd: 4,
  ResetRead: 5,
} as const;
export type RecvState = (typeof RecvState)[keyof typeof RecvState];

/** Stream ID helpers (RFC 9000 §2.1). */
export function isServerInitiated(id: number): boolean {
  return (id & 1) === 1;
}
export function isUnidirectional(id: number): boolean {
  return (id & 2) === 2;
}

/**
 * One stream: its send part (a send buffer and the peer's credit) and/or receive part (a
 * reassembly buffer and our credit), their RFC 9000 §3 states, and the control frames it
 * owes the peer.
 */
export class QuicStream {
  readonly bidi: boolean;
  readonly send: StreamSendBuffer | undefined;
  readonly recv: StreamRecvBuffer | undefined;
  readonly sendCredit: SendCredit;
  readonly recvCredit: ReceiveCredit;
  sendState: SendState = SendState.Ready;
  recvState: RecvState = RecvState.Recv;

  /** RESET_STREAM we owe the peer (error code), or undefined. */
  resetCode: bigint | undefined;
  resetFinalSize = 0;
  resetPending = false;
  /** STOP_SENDING we owe the peer (error code), or undefined. */
  stopSendingCode: bigint | undefined;
  stopSendingPending = false;
  /** A MAX_STREAM_DATA update is owed. */
  maxStreamDataPending = false;
  /** Error code of the peer's RESET_STREAM / STOP_SENDING. */
  peerResetCode: bigint | undefined;
  peerStopSendingCode: bigint | undefined;

  /** In the connection's send queue. */
  queued = false;
  /** Emit `streamDataAcked` as the acknowledged prefix grows. */
  notifyAcked = false;
  /** The acknowledged prefix last reported with `streamDataAcked`. */
  ackedReported = 0;
  /** A 'readable' event was emitted and the application has not read since. */
  readableSignalled = false;
  /** A 'writable' event is owed once credit returns. */
  writeBlocked = false;
  /** Larger goes first; equal priorities share round-robin. */
  priority = 0;

  constructor(
    readonly id: number,
    readonly local: boolean,
    sendLimit: number,
    recvWindow: number,
    maxRecvWindow: number,
  ) {
    this.bidi = !isUnidirectional(id);
    const canSend = this.bidi || local;
    const canRecv = this.bidi || !local;
    this.send = canSend ? new StreamSendBuffer() : undefined;
    this.recv = canRecv ? new StreamRecvBuffer(Math.min(recvWindow, 16384) || 16384) : undefined;
    this.sendCredit = new SendCredit(canSend ? sendLimit : 0);
    this.recvCredit = new ReceiveCredit(canRecv ? recvWindow : 0, Math.max(recvWindow, maxRecvWindow));
    if (!canSend) this.sendState = SendState.DataRecvd;
    if (!canRecv) this.recvState = RecvState.DataRead;
  }

  /** The send part has reached a terminal state. */
  get sendClosed(): boolean {
    return this.sendState === SendState.DataRecvd || this.sendState === SendState.ResetRecvd;
  }

  /** The receive part has reached a terminal state. */
  get recvClosed(): boolean {
    return this.recvState === RecvState.DataRead || this.recvState === RecvState.ResetRead;
  }

  /** Both parts are terminal: the stream can be forgotten. */
  get isClosed(): boolean {
    return this.sendClosed && this.recvClosed;
  }

  /** The stream has something for the packet builder, given the connection-level credit. */
  wantsToSend(connAvailable: number): boolean {
    if (this.resetPending || this.stopSendingPending || this.maxStreamDataPending) return true;
    const s = this.send;
    if (s === undefined || this.sendState >= SendState.ResetSent) return false;
    const limit = Math.min(this.sendCredit.limit, s.sentOffset + connAvailable);
    return s.peek(limit) >= 0 || this.streamDataBlockedOwed;
  }

  /** Data waits on the peer's MAX_STREAM_DATA and the peer has not been told (STREAM_DATA_BLOCKED). */
  get streamDataBlockedOwed(): boolean {
    const s = this.send;
    return s !== undefined && s.unsentBytes > 0 && s.sentOffset >= this.sendCredit.limit && this.sendCredit.blockedUnreported;
  }
}
