/**
 * NSS key log lines (the SSLKEYLOGFILE format Wireshark reads): `LABEL <client_random hex>
 * <secret hex>`, one per TLS 1.3 secret.
 */
import { toHex } from '../util/bytes.js';

/** The labels a TLS 1.3 handshake logs. */
export type KeyLogLabel =
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'EARLY_EXPORTER_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EXPORTER_SECRET';

/** One key log line (without a trailing newline). */
export function keyLogLine(label: KeyLogLabel, clientRandom: Uint8Array, secret: Uint8Array): string {
  return `${label} ${toHex(clientRandom)} ${toHex(secret)}`;
}
