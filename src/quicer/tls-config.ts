/**
 * quicer's TLS keys (QUICER.md §1b) as TLS engine configuration, client and server side, the
 * decision on a peer certificate (built-in check, or the application's with `custom_verify`),
 * and the `sslkeylogfile` writer.
 *
 * A connection that checks certificates (`verify: verify_peer`, or `custom_verify`) runs its
 * TLS engine in 'custom' mode and `settlePeerCertificate` decides when the certificate
 * arrives: that is what lets `setopt(conn, 'custom_verify', Bool)` switch between asking the
 * application and the built-in chain check until then (QUICER.md §1a).
 */
import { appendFileSync, statSync } from 'node:fs';
import type { ClientConnectionConfig, ServerConnectionConfig } from '../transport/connection-config.js';
import { nodeRootCertificates } from '../tls/credential-files.js';
import { verifyCertificateChain } from '../tls/certificates.js';
import type { ConnOptions } from './options.js';
import { handlePresetOptions } from './options.js';
import type { QuicConn } from './conn-handle.js';

let systemRoots: Uint8Array[] | undefined;
/** Node's bundled Mozilla roots: the trust store of `verify: verify_peer` without `cacertfile`. */
function roots(): Uint8Array[] {
  systemRoots ??= nodeRootCertificates();
  return systemRoots;
}

/**
 * Client TLS settings: ALPN, the server name (sent as SNI unless it is an IP literal, and
 * checked against the certificate either way), certificate checking, client certificate,
 * resumption ticket, key log.
 */
export function clientTls(o: ConnOptions, host: string, serverName?: string): ClientConnectionConfig['tls'] {
  const checks = o.customVerify || o.verifyPeer;
  return {
    alpn: o.alpn,
    serverName: serverName ?? host,
    verify: checks ? 'custom' : 'none',
    ...(o.certificateChain && o.privateKey ? { credentials: { certificateChain: o.certificateChain, privateKey: o.privateKey } } : {}),
    ...(o.nst ? { session: o.nst } : {}),
    ...(o.sslkeylogfile ? { keyLog: keyLogWriter(o.sslkeylogfile) } : {}),
  };
}

/**
 * Server TLS settings from listener options: certificates, client authentication (verify_peer:
 * a client certificate is required and checked against `cacertfile`, or Node's bundled roots
 * without one; custom_verify also demands a client certificate, QUICER.md §1a, and lets the
 * application decide), 0-RTT acceptance at server_resumption_level 2, key log.
 */
export function serverTls(o: ConnOptions): ServerConnectionConfig['tls'] {
  if (!o.certificateChain || !o.privateKey) throw new TypeError('listen_opts.certfile: missing; a listener needs certfile and keyfile (or cert and key)');
  const checks = o.customVerify || o.verifyPeer;
  return {
    alpn: o.alpn,
    credentials: { certificateChain: o.certificateChain, privateKey: o.privateKey },
    clientAuth: checks ? 'require' : 'none',
    verify: checks ? 'custom' : 'none',
    earlyData: o.serverResumptionLevel >= 2,
    ...(o.sslkeylogfile ? { keyLog: keyLogWriter(o.sslkeylogfile) } : {}),
  };
}

/**
 * Whether the application decides on this connection's peer certificate (`custom_verify` as
 * given, preset on a handle not started yet, or changed with setopt).
 */
export function customVerifyOf(conn: QuicConn): boolean {
  const r = conn.runtimeSettings.custom_verify;
  if (typeof r === 'boolean') return r;
  if (conn.ec === undefined) {
    const p = handlePresetOptions(conn).custom_verify;
    if (typeof p === 'boolean') return p;
  }
  return conn.opts.customVerify;
}

/**
 * The peer's certificate arrived (the TLS engine waits for a verdict). Returns false when the
 * application decides (`custom_verify`: the owner gets `peer_cert_received` and answers with
 * `completeCertValidation`); otherwise settles it here and returns true: with `verify_peer`
 * the chain is checked against `cacertfile` (Node's bundled roots without one) and, on a
 * client, the server name; without it the certificate is accepted.
 */
export function settlePeerCertificate(conn: QuicConn, chain: readonly Uint8Array[], serverName: string | undefined): boolean {
  if (customVerifyOf(conn)) return false;
  const ec = conn.ec;
  if (ec === undefined) return true;
  if (!conn.opts.verifyPeer) {
    ec.completeCertificateVerification({ ok: true });
    return true;
  }
  verifyCertificateChain(chain, {
    trusted: conn.opts.trusted ?? roots(),
    now: Date.now(),
    purpose: conn.side === 'client' ? 'server' : 'client',
    ...(conn.side === 'client' && serverName !== undefined ? { serverName } : {}),
  }).then(
    (verdict) => ec.completeCertificateVerification(verdict),
    (err: unknown) => ec.completeCertificateVerification({ ok: false, alert: 80, reason: `certificate verification failed: ${String(err)}` }),
  );
  return true;
}

/**
 * The `sslkeylogfile` writer (QUICER.md §1b): NSS key-log lines appended as the secrets are
 * derived (so the file also has the handshake secrets of a connection that failed its
 * certificate check), with the `# TLS 1.3 secrets log file` header first on an empty file.
 * A key log that cannot be written never breaks the connection.
 */
export function keyLogWriter(path: string): (line: string) => void {
  let started = false;
  return (line: string) => {
    try {
      if (!started) {
        started = true;
        let empty = true;
        try {
          empty = statSync(path).size === 0;
        } catch {
          empty = true;
        }
        if (empty) appendFileSync(path, '# TLS 1.3 secrets log file\n');
      }
      appendFileSync(path, line + '\n');
    } catch {
      // A debugging aid only.
    }
  };
}
