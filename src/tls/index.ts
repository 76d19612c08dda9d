/**
 * The sans-IO TLS 1.3 engine for QUIC: create a client or server, feed it CRYPTO stream bytes
 * per encryption level, and pull handshake bytes, traffic secrets and events out.
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
