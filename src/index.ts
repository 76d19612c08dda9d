/**
 * purequic: a QUIC stack in TypeScript for Node.js. This module is the public surface.
 */

// The UDP endpoint and its connections.
export { QuicEndpoint, EndpointConnection, nowMs, type EndpointOptions, type ServerOptions, type ConnectOptions } from './endpoint/index.js';

// The sans-IO connection and its configuration and events.
export { Connection, type ConnectionState } from './transport/connection.js';
export {
  defaultTransportSettings,
  type TransportSettings,
  type ClientConnectionConfig,
  type ServerConnectionConfig,
  type ServerAcceptInfo,
} from './transport/connection-config.js';
export type { ConnectionEvent, ConnectionCloseInfo, PathAddress } from './transport/events.js';
export type { ConnectionIdSource } from './transport/connection-id.js';
export { QuicError, TransportError, CRYPTO_ERROR_BASE, transportErrorName } from './transport/errors.js';
export { QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS } from './transport/version.js';

// TLS: certificates, keys and sessions.
export { TlsAlert } from './tls/alerts.js';
export { loadCertificateChain, loadPrivateKey, certificateMatchesKey } from './tls/credentials.js';
export { readCertificateChainFile, readPrivateKeyFile, readTrustedCertificatesFile } from './tls/credential-files.js';
export { verifyCertificateChain, matchesServerName, type CertificateVerdict } from './tls/certificates.js';
export { selfSignedCertificate, createCertificate, createTestPki, type IssuedCertificate } from './tls/certificate-authority.js';
export { createTicketSealer, decodeClientSession, type TicketSealer } from './tls/session.js';
export type { CipherSuiteName } from './tls/cipher-suites.js';

// Crypto backends.
export { defaultCrypto, nodeBackend, type CryptoBackend } from './crypto/index.js';
export { nobleBackend } from './crypto/noble-backend.js';

// Congestion control.
export { createCongestionController, type CongestionAlgorithm, type CongestionController } from './congestion/index.js';
