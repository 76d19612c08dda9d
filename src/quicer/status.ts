/**
 * quicer's status atoms (QUICER.md §3g) for the ways a connection ends, and the error code
 * that goes with them (QUICER.md §0.4: locally generated closes report INTERNAL_ERROR 1 plus a
 * status; TLS alert failures report 0x100 + alert).
 */
import type { ConnectionCloseInfo } from '../transport/events.js';
import { TlsAlert } from '../tls/alerts.js';

/** A quicer status: an atom-like string, or `['unknown_quic_status', N]` / `['unknown_quic_tls_status', alert]`. */
export type QuicerStatus = string | readonly ['unknown_quic_status', number] | readonly ['unknown_quic_tls_status', number];

/** `transport_shutdown` props: `{status, error}`. */
export interface TransportShutdownProps {
  /** Why, as a quicer status (`connection_idle`, `alpn_neg_failure`, `cert_untrusted_root`, …). */
  status: QuicerStatus;
  /** The QUIC error code: 1 for closes decided locally (timeouts), 0x100 + alert for TLS alerts, else the transport error code (ours or the peer's). */
  error: number;
}

const ALERT_STATUS = new Map<number, string>([
  [TlsAlert.bad_certificate, 'bad_certificate'],
  [TlsAlert.unsupported_certificate, 'unsupported_certificate'],
  [TlsAlert.certificate_revoked, 'revoked_certificate'],
  [TlsAlert.certificate_expired, 'expired_certificate'],
  [TlsAlert.certificate_unknown, 'unknown_certificate'],
  // MsQuic names no status for unknown_ca; the chain check it stands for is an untrusted root.
  [TlsAlert.unknown_ca, 'cert_untrusted_root'],
  [TlsAlert.certificate_required, 'required_certificate'],
  [TlsAlert.no_application_protocol, 'alpn_neg_failure'],
  [TlsAlert.handshake_failure, 'handshake_failure'],
  [TlsAlert.user_canceled, 'user_canceled'],
  [TlsAlert.close_notify, 'close_notify'],
]);

/**
 * Status for a transport error code (0x100+alert for TLS alerts), as MsQuic's
 * QuicErrorCodeToStatus names them: NO_ERROR success, CONNECTION_REFUSED connection_refused,
 * PROTOCOL_VIOLATION protocol_error, APPLICATION_ERROR user_canceled, VERSION_NEGOTIATION_ERROR
 * ver_neg_error, a TLS alert by its name (`['unknown_quic_tls_status', alert]` when it has
 * none), anything else internal_error (the code itself is in the props' `error`).
 */
export function statusOfTransportCode(code: number): QuicerStatus {
  if (code >= 0x100 && code <= 0x1ff) {
    const alert = code - 0x100;
    return ALERT_STATUS.get(alert) ?? (['unknown_quic_tls_status', alert] as const);
  }
  switch (code) {
    case 0x0:
      return 'success';
    case 0x2:
      return 'connection_refused';
    case 0xa:
      return 'protocol_error';
    case 0xc:
      return 'user_canceled';
    case 0x11:
      return 'ver_neg_error';
    default:
      return 'internal_error';
  }
}

/** The props of a `transport_shutdown` for this close, or undefined when quicer raises `shutdown` (peer application close) or nothing (our application's close). */
export function transportShutdownProps(info: ConnectionCloseInfo): TransportShutdownProps | undefined {
  const code = Number(info.code);
  switch (info.source) {
    case 'application':
    case 'peer-application':
      return undefined;
    case 'idle-timeout':
    case 'handshake-timeout':
      return { status: 'connection_idle', error: 1 };
    case 'stateless-reset':
      return { status: 'aborted', error: 1 };
    case 'version-negotiation':
      return { status: 'ver_neg_error', error: 1 };
    case 'unreachable':
      return { status: 'unreachable', error: 1 };
    case 'disconnect-timeout':
      return { status: 'connection_timeout', error: 1 };
    case 'transport':
    case 'peer-transport':
      return { status: statusOfTransportCode(code), error: code };
    default:
      return { status: ['unknown_quic_status', code] as const, error: code };
  }
}
