/**
 * quicer's TLS keys (QUICER.md §1b) as TLS engine configuration, client and server side.
 */
import type { ClientConnectionConfig, ServerConnectionConfig } from '../transport/connection-config.js';
import { nodeRootCertificates } from '../tls/credential-files.js';
import { isIP } from 'node:net';
import { keyLogWriter, type ConnOptions } from './options.js';

let systemRoots: Uint8Array[] | undefined;
/** Node's bundled Mozilla roots: the trust store of `verify: verify_peer` without `cacertfile`. */
function roots(): Uint8Array[] {
  systemRoots ??= nodeRootCertificates();
  return systemRoots;
}

/** Client TLS settings: SNI from the host (not for IP literals), verification mode, client certificate, ticket, key log. */
export function clientTls(o: ConnOptions, host: string, serverName?: string): ClientConnectionConfig['tls'] {
  const verify = o.customVerify ? 'custom' : o.verifyPeer ? 'builtin' : 'none';
  const sni = serverName ?? (isIP(host) ? undefined : host);
  return {
    alpn: o.alpn,
    ...(sni !== undefined ? { serverName: sni } : {}),
    verify,
    ...(verify === 'builtin' ? { trustedCertificates: o.trusted ?? roots() } : {}),
    ...(o.certificateChain && o.privateKey ? { credentials: { certificateChain: o.certificateChain, privateKey: o.privateKey } } : {}),
    ...(o.nst ? { session: o.nst } : {}),
    ...(o.sslkeylogfile ? { keyLog: keyLogWriter(o.sslkeylogfile) } : {}),
  };
}

/**
 * Server TLS settings from listener options: certificates, client authentication (verify_peer,
 * or custom_verify which also demands a client certificate, QUICER.md §1a), 0-RTT acceptance
 * at server_resumption_level 2, key log.
 */
export function serverTls(o: ConnOptions): ServerConnectionConfig['tls'] {
  if (!o.certificateChain || !o.privateKey) throw new TypeError('listener options need certfile/keyfile (or cert/key)');
  const clientAuth = o.customVerify || o.verifyPeer ? 'require' : 'none';
  const verify = o.customVerify ? 'custom' : o.verifyPeer && o.trusted ? 'builtin' : 'none';
  return {
    alpn: o.alpn,
    credentials: { certificateChain: o.certificateChain, privateKey: o.privateKey },
    clientAuth,
    verify,
    ...(verify === 'builtin' ? { trustedCertificates: o.trusted! } : {}),
    earlyData: o.serverResumptionLevel >= 2,
    ...(o.sslkeylogfile ? { keyLog: keyLogWriter(o.sslkeylogfile) } : {}),
  };
}
