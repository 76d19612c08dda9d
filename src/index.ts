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

// The quicer layer: quicer's functions under `quicer`, the connection behaviour, processes.
export * as quicer from './quicer/quicer.js';
export {
  QuicConnection,
  ConnectionProcess,
  reply,
  type ConnectionCallbacks,
  type InitRet,
  type CallFrom,
  type ConfTable,
  type AcceptorSupervisor,
  type StartOptions as ConnectionStartOptions,
  type NewConnProps,
  type ConnectedProps,
  type ClosedProps,
  type NewStreamProps,
  type StreamsAvailableProps,
  type DgramStateProps,
} from './quicer/connection.js';
export {
  CallbackProcess,
  BadReturnError,
  setCallbackErrorLogger,
  type CallbackErrorLogger,
  type CbRet,
  type MaybeAsync,
  type ReplyAction,
} from './quicer/gen-server.js';
export {
  Process,
  Inbox,
  FunctionProcess,
  CallError,
  self,
  isNormalExit,
  type ExitReason,
  type ExitMessage,
  type DownMessage,
} from './quicer/process.js';
export { QuicConn, ConnShutdownFlag, ConnEventMask } from './quicer/conn-handle.js';
export {
  QuicStream,
  StreamProcess,
  type StreamCallbacks,
  type LocalStreamState,
  type NewStreamRet,
  type StreamSendResult,
  type StreamStartOptions,
} from './quicer/stream.js';
export {
  QuicStrm,
  SendFlag,
  StreamEventMask,
  StreamShutdownFlag,
  StreamStartFlag,
  StreamOpenFlag,
  RecvFlag,
  type RecvDataProps,
  type StartCompletedProps,
  type StreamClosedProps,
  type RecvResult,
} from './quicer/stream-handle.js';
export { QuicListener, type ListenOn } from './quicer/listener.js';
export { QuicListenerServer, AcceptorPool, type ListenerConf } from './quicer/listener-server.js';
export { Registration, globalRegistration } from './quicer/registration.js';
export type { TransportShutdownProps, QuicerStatus } from './quicer/status.js';
export {
  MSQUIC_DEFAULTS,
  QUICER_CLIENT_DEFAULTS,
  QUICER_CONN_OPTS,
  QUICER_CONN_OPT_KEYS,
  type ConnOptInfo,
  type ConnOptState,
  type ActiveMode,
} from './quicer/options.js';
