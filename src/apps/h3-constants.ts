/**
 * HTTP/3 (RFC 9114) and QPACK (RFC 9204) code points, and the error an HTTP/3 endpoint raises
 * to close a connection or a stream with one of their application error codes.
 */

/** Frame types (RFC 9114 §7.2, §11.2.1). */
export const H3FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

/** HTTP/2 frame types with no HTTP/3 counterpart: receiving one is H3_FRAME_UNEXPECTED (RFC 9114 §7.2.8). */
export function isReservedHttp2FrameType(type: number): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

/** Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2). */
export const H3StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

/** Settings identifiers (RFC 9114 §7.2.4.1, RFC 9204 §5). */
export const H3Setting = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
} as const;

/** HTTP/2 settings with no HTTP/3 counterpart: receiving one is H3_SETTINGS_ERROR (RFC 9114 §7.2.4.1). */
export function isReservedHttp2Setting(id: number): boolean {
  return id >= 0x02 && id <= 0x05;
}

/** Application error codes (RFC 9114 §8.1, RFC 9204 §6). */
export const H3ErrorCode = {
  H3_NO_ERROR: 0x0100,
  H3_GENERAL_PROTOCOL_ERROR: 0x0101,
  H3_INTERNAL_ERROR: 0x0102,
  H3_STREAM_CREATION_ERROR: 0x0103,
  H3_CLOSED_CRITICAL_STREAM: 0x0104,
  H3_FRAME_UNEXPECTED: 0x0105,
  H3_FRAME_ERROR: 0x0106,
  H3_EXCESSIVE_LOAD: 0x0107,
  H3_ID_ERROR: 0x0108,
  H3_SETTINGS_ERROR: 0x0109,
  H3_MISSING_SETTINGS: 0x010a,
  H3_REQUEST_REJECTED: 0x010b,
  H3_REQUEST_CANCELLED: 0x010c,
  H3_REQUEST_INCOMPLETE: 0x010d,
  H3_MESSAGE_ERROR: 0x010e,
  H3_CONNECT_ERROR: 0x010f,
  H3_VERSION_FALLBACK: 0x0110,
  QPACK_DECOMPRESSION_FAILED: 0x0200,
  QPACK_ENCODER_STREAM_ERROR: 0x0201,
  QPACK_DECODER_STREAM_ERROR: 0x0202,
} as const;

/** The name of an HTTP/3 or QPACK error code (`0x…` for unknown ones). */
export function h3ErrorName(code: number | bigint): string {
  const n = Number(code);
  for (const [name, value] of Object.entries(H3ErrorCode)) if (value === n) return name;
  return `0x${n.toString(16)}`;
}

/**
 * An HTTP/3 protocol error. A connection error closes the connection with `code`; a stream
 * error (`streamId` set) resets only that request stream.
 */
export class H3Error extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly streamId?: number,
  ) {
    super(`${h3ErrorName(code)}: ${message}`);
    this.name = 'H3Error';
  }
}
