/**
 * QUIC transport error codes (RFC 9000 §20.1, RFC 9368 §6) and the one error type the
 * stack throws for protocol failures. A `QuicError` carries exactly what goes into a
 * CONNECTION_CLOSE frame: the error code, the frame type that triggered it (when known),
 * and a reason phrase.
 */

export const TransportError = {
  NO_ERROR: 0x0,
  INTERNAL_ERROR: 0x1,
  CONNECTION_REFUSED: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_LIMIT_ERROR: 0x4,
  STREAM_STATE_ERROR: 0x5,
  FINAL_SIZE_ERROR: 0x6,
  FRAME_ENCODING_ERROR: 0x7,
  TRANSPORT_PARAMETER_ERROR: 0x8,
  CONNECTION_ID_LIMIT_ERROR: 0x9,
  PROTOCOL_VIOLATION: 0xa,
  INVALID_TOKEN: 0xb,
  APPLICATION_ERROR: 0xc,
  CRYPTO_BUFFER_EXCEEDED: 0xd,
  KEY_UPDATE_ERROR: 0xe,
  AEAD_LIMIT_REACHED: 0xf,
  NO_VIABLE_PATH: 0x10,
  VERSION_NEGOTIATION_ERROR: 0x11,
} as const;

export type TransportErrorName = keyof typeof TransportError;

/** First code of the CRYPTO_ERROR range: a TLS alert `a` is reported as 0x100 + a. */
export const CRYPTO_ERROR_BASE = 0x100;

const NAMES = new Map<number, string>(Object.entries(TransportError).map(([k, v]) => [v, k]));

/** Human-readable name of a transport error code, e.g. `FRAME_ENCODING_ERROR` or `CRYPTO_ERROR(0x128)`. */
export function transportErrorName(code: number): string {
  const n = NAMES.get(code);
  if (n !== undefined) return n;
  if (code >= 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(0x${code.toString(16)})`;
  return `0x${code.toString(16)}`;
}

/**
 * A protocol failure with a QUIC transport error code. Everything the network can make the
 * stack reject surfaces as this type (never a RangeError from a buffer read, never a crash).
 */
export class QuicError extends Error {
  override readonly name = 'QuicError';
  /** Transport error code (RFC 9000 §20.1), or 0x100 + TLS alert for CRYPTO_ERROR. */
  readonly code: number;
  /** The frame type that caused the error, when a frame did (goes into CONNECTION_CLOSE). */
  readonly frameType: number | undefined;
  /** Reason phrase for CONNECTION_CLOSE. */
  readonly reason: string;

  constructor(code: number, reason: string, frameType?: number) {
    super(`${transportErrorName(code)}: ${reason}`);
    this.code = code;
    this.reason = reason;
    this.frameType = frameType;
  }

  /** The TLS alert number when this is a CRYPTO_ERROR, otherwise undefined. */
  get tlsAlert(): number | undefined {
    return this.code >= CRYPTO_ERROR_BASE && this.code <= 0x1ff ? this.code - CRYPTO_ERROR_BASE : undefined;
  }

  /** A CRYPTO_ERROR carrying TLS alert `alert` (RFC 9001 §4.8). */
  static fromAlert(alert: number, reason: string): QuicError {
    return new QuicError(CRYPTO_ERROR_BASE + alert, reason);
  }
}
