/**
 * TLS alert descriptions (RFC 8446 §6, plus certificate_required and
 * no_application_protocol). In QUIC an alert is never sent as a record: it becomes the
 * CRYPTO_ERROR transport code 0x100 + alert (RFC 9001 §4.8, see `QuicError.fromAlert`).
 */
export const TlsAlert = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  /** Reserved: never sent in TLS 1.3. */
  decryption_failed_RESERVED: 21,
  record_overflow: 22,
  /** Reserved: never sent in TLS 1.3. */
  decompression_failure_RESERVED: 30,
  handshake_failure: 40,
  /** Reserved: never sent in TLS 1.3. */
  no_certificate_RESERVED: 41,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  /** Reserved: never sent in TLS 1.3. */
  export_restriction_RESERVED: 60,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  /** Reserved: never sent in TLS 1.3. */
  no_renegotiation_RESERVED: 100,
  missing_extension: 109,
  unsupported_extension: 110,
  /** Reserved: never sent in TLS 1.3. */
  certificate_unobtainable_RESERVED: 111,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  /** Reserved: never sent in TLS 1.3. */
  bad_certificate_hash_value_RESERVED: 114,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

/** Name of a TLS alert code. */
export type TlsAlertName = keyof typeof TlsAlert;

const ALERT_NAMES = new Map<number, string>(Object.entries(TlsAlert).map(([k, v]) => [v, k]));

/** Human-readable name of an alert code, e.g. `bad_certificate`, or `alert(253)` when unknown. */
export function tlsAlertName(alert: number): string {
  return ALERT_NAMES.get(alert) ?? `alert(${alert})`;
}
