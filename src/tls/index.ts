/**
 * The sans-IO TLS 1.3 engine for QUIC: create a client or server, feed it CRYPTO stream bytes
 * per encryption level, and pull handshake bytes, traffic secrets and events out.
 *
 * Driving it (the QUIC connection does exactly this; nothing here reads a clock or a socket):
 * ```ts
 * const tls = createTlsClient({ serverName, alpn: ['h3'], transportParameters, trustedCertificates });
 * tls.start(now);                                  // ClientHello queued at 'initial'
 * // on every CRYPTO frame, in stream order per level:
 * tls.receive(level, bytes, now);                  // throws QuicError (CRYPTO_ERROR 0x100+alert) on failure
 * for (let o; (o = tls.pollOutput()); ) sendCrypto(o.level, o.data);
 * for (let e; (e = tls.pollEvent()); ) {
 *   if (e.type === 'secret') installKeys(e.level, e.direction, e.suite, e.secret);
 *   else if (e.type === 'peerCertificates' && e.awaitingVerdict) {
 *     // built-in: runs verifyCertificateChain, then completeCertificateVerification
 *     if (e.verification === 'builtin') verifyPeerCertificates(tls, e).then(flush, closeWith);
 *     else app.verify(e.chain).then((verdict) => tls.completeCertificateVerification(verdict, now));
 *   }
 *   // peerTransportParameters, earlyData, handshakeComplete, sessionTicket, clientHello …
 * }
 * ```
 * A server issues tickets after completion with `server.sendSessionTicket(now, options)`
 * (output at 'oneRtt'); a client resumes by passing a `sessionTicket` event's bytes as
 * `session`.
 */
export { TlsClient, createTlsClient } from './client.js';
export { TlsServer, createTlsServer, type SessionTicketOptions } from './server.js';
export { TlsEngine, certificateVerifyContent, verifyPeerCertificates } from './engine.js';
export * from './types.js';
export {
  CIPHER_SUITES,
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
  cipherSuiteByCode,
  cipherSuiteByName,
  type CipherSuite,
  type CipherSuiteName,
  type TrafficSuite,
} from './cipher-suites.js';
export {
  createTicketSealer,
  decodeClientSession,
  encodeClientSession,
  type ClientSession,
  type TicketSealer,
  type TicketState,
} from './session.js';
export { ExtensionType, type Extension } from './extensions.js';
export { HandshakeType } from './messages.js';
export { KeySchedule, Transcript, deriveSecret, exportKeyingMaterial, recordKeys, resumptionPsk } from './key-schedule.js';
export { keyLogLine, type KeyLogLabel } from './keylog.js';
export { TlsAlert, tlsAlertName } from './alerts.js';
