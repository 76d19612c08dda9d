/**
 * Types shared by the TLS client and server engines: encryption levels, the events the QUIC
 * layer pulls, certificate verdicts, and the configuration of each side.
 */
import type { CryptoBackend, KeyExchangeGroup, Signer } from '../crypto/backend.js';
import type { CipherSuiteName, TrafficSuite } from './cipher-suites.js';
import type { Extension } from './extensions.js';
import type { TicketSealer } from './session.js';

/** The QUIC encryption levels (packet number spaces plus 0-RTT) handshake bytes travel at. */
export type EncryptionLevel = 'initial' | 'zeroRtt' | 'handshake' | 'oneRtt';

/** A traffic secret became available: the QUIC layer derives packet protection from it. */
export interface SecretEvent {
  readonly type: 'secret';
  readonly level: Exclude<EncryptionLevel, 'initial'>;
  readonly direction: 'read' | 'write';
  readonly suite: TrafficSuite;
  readonly secret: Uint8Array;
}

/** The peer's quic_transport_parameters extension body (undecoded). */
export interface PeerTransportParametersEvent {
  readonly type: 'peerTransportParameters';
  readonly data: Uint8Array;
}

/** What a built-in chain verification needs (the arguments of `verifyCertificateChain`). */
export interface ChainVerificationRequest {
  readonly trusted: readonly Uint8Array[];
  readonly serverName: string | undefined;
  /** ms, the `now` of the `receive` call that completed the peer's CertificateVerify. */
  readonly now: number;
  readonly purpose: 'server' | 'client';
}

/**
 * The peer presented certificates (DER, leaf first) and proved possession of the leaf key.
 * When `awaitingVerdict` is true the handshake is suspended until
 * `completeCertificateVerification` is called: with `verification: 'custom'` the application
 * decides; with `'builtin'` the driver runs `verifyCertificateChain(chain, request)` (see
 * `verifyPeerCertificates`) and passes the result on. `request` is given with `'custom'` too
 * (empty `trusted` unless configured), so the application can run the same check.
 */
export interface PeerCertificatesEvent {
  readonly type: 'peerCertificates';
  readonly chain: readonly Uint8Array[];
  readonly verification: 'none' | 'builtin' | 'custom';
  readonly awaitingVerdict: boolean;
  readonly request: ChainVerificationRequest | undefined;
}

/** Server only: what the ClientHello asked for, before the server answers it. */
export interface ClientHelloEvent {
  readonly type: 'clientHello';
  readonly serverName: string | undefined;
  readonly alpn: readonly string[];
}

/** Client: whether the server accepted 0-RTT (as soon as that is known). Server: its decision. */
export interface EarlyDataEvent {
  readonly type: 'earlyData';
  readonly status: 'accepted' | 'rejected';
}

export interface HandshakeCompleteEvent {
  readonly type: 'handshakeComplete';
  readonly alpn: string | undefined;
  readonly resumed: boolean;
  readonly earlyData: 'accepted' | 'rejected' | 'not-offered';
  readonly cipherSuite: CipherSuiteName;
  /** The key exchange group (undefined only for a psk_ke resumption). */
  readonly group: KeyExchangeGroup | undefined;
  /** The SignatureScheme of the server's CertificateVerify (undefined when resumed with a PSK). */
  readonly signatureScheme: number | undefined;
  readonly peerCertificates: readonly Uint8Array[] | undefined;
  /** The SNI the client sent (server side) or configured (client side). */
  readonly serverName: string | undefined;
  /** Server, resumed: the application data stored in the ticket the client used (empty when none). */
  readonly resumptionData?: Uint8Array;
}

/** Client only: a resumable session from a NewSessionTicket (opaque, storable bytes; see `decodeClientSession`). */
export interface SessionTicketEvent {
  readonly type: 'sessionTicket';
  readonly session: Uint8Array;
  /** Seconds. */
  readonly lifetime: number;
  readonly maxEarlyData: number;
}

export type TlsEvent =
  | SecretEvent
  | PeerTransportParametersEvent
  | PeerCertificatesEvent
  | ClientHelloEvent
  | EarlyDataEvent
  | HandshakeCompleteEvent
  | SessionTicketEvent;

/** Handshake bytes to send at a level. */
export interface TlsOutput {
  readonly level: EncryptionLevel;
  readonly data: Uint8Array;
}

/** The application's (or built-in verifier's) answer to a `peerCertificates` event. */
export type CertificateVerdict = { readonly ok: true } | { readonly ok: false; readonly alert: number; readonly reason?: string };

/** A certificate chain (DER, leaf first) and the leaf's key. */
export interface Credentials {
  readonly certificateChain: readonly Uint8Array[];
  /** PKCS#8 DER private key (a signer is created from it once and cached). */
  readonly privateKey?: Uint8Array;
  /** Alternatively, a ready signer. */
  readonly signer?: Signer;
}

/** Messages whose extension list the `extensionHook` may rewrite. */
export type HookedMessage = 'client_hello' | 'encrypted_extensions';

/**
 * Lets the application add, reorder or replace extensions of a message the engine composes
 * (GREASE (RFC 8701), padding (RFC 7685), extensions the engine does not implement, a fixed
 * extension order). The engine still negotiates from its own configuration; in ClientHello
 * pre_shared_key is appended after the hook (it must stay last and its binder covers the
 * hooked bytes). The hook must not return duplicate types.
 *
 * Hooks and callbacks run synchronously inside `start`/`receive`; an exception thrown by one
 * during `receive` fails the handshake with internal_error (80).
 */
export type ExtensionHook = (message: HookedMessage, extensions: Extension[]) => Extension[];

export interface TlsCommonConfig {
  /** Primitives; default `defaultCrypto`. */
  readonly crypto?: CryptoBackend;
  /**
   * The RFC 9001 profile (default true): quic_transport_parameters and ALPN mandatory, no
   * EndOfEarlyData, max_early_data_size 0xffffffff, empty legacy_session_id. `false` gives
   * TLS-over-TCP message flow (for RFC 8448 traces).
   */
  readonly quic?: boolean;
  /** Cipher suites in preference order (names or code points); default AES-128-GCM, AES-256-GCM, ChaCha20. */
  readonly cipherSuites?: readonly (CipherSuiteName | number)[];
  /** Key exchange groups in preference order; default x25519, secp256r1, secp384r1. */
  readonly groups?: readonly KeyExchangeGroup[];
  /** Signature schemes accepted in the peer's CertificateVerify (and advertised), in preference order. */
  readonly signatureSchemes?: readonly number[];
  /** ALPN protocols in preference order (required with `quic`). */
  readonly alpn?: readonly string[];
  /** This endpoint's quic_transport_parameters body (required with `quic`). */
  readonly transportParameters?: Uint8Array;
  /** Receives every secret as an NSS key log line. */
  readonly keyLog?: (line: string) => void;
  readonly extensionHook?: ExtensionHook;
  /**
   * How the peer's certificate chain is checked once its CertificateVerify is valid: not at
   * all, by `verifyCertificateChain` against `trustedCertificates` (the default), or by the
   * application. The latter two suspend the handshake until `completeCertificateVerification`.
   */
  readonly verify?: 'none' | 'builtin' | 'custom';
  /** Trust anchors (DER) for `verify: 'builtin'`. */
  readonly trustedCertificates?: readonly Uint8Array[];
}

export interface TlsClientConfig extends TlsCommonConfig {
  /** Server name for SNI and certificate verification (SNI is not sent for IP literals). */
  readonly serverName?: string;
  /** Groups to send key shares for in the first ClientHello; default the first of `groups`. */
  readonly keyShareGroups?: readonly KeyExchangeGroup[];
  /** Client certificate, sent when the server asks for one. */
  readonly credentials?: Credentials;
  /** A session from a `sessionTicket` event, to resume. Unusable sessions are ignored (full handshake). */
  readonly session?: Uint8Array;
  /** Offer 0-RTT when the session allows it (default true). */
  readonly earlyData?: boolean;
}

/** What a server sees of a ClientHello when choosing credentials. */
export interface ClientHelloInfo {
  readonly serverName: string | undefined;
  readonly alpn: readonly string[];
  readonly signatureSchemes: readonly number[];
}

/** What a server's 0-RTT policy sees when a client offers early data with an accepted ticket. */
export interface EarlyDataInfo {
  readonly serverName: string | undefined;
  readonly alpn: string | undefined;
  /** ms between ticket issue and now, as the server measures it. */
  readonly ticketAge: number;
  readonly applicationData: Uint8Array;
  readonly earlyDataContext: Uint8Array;
}

export interface TlsServerConfig extends TlsCommonConfig {
  /** The certificate chain and key presented when no `selectCredentials` answer is given. */
  readonly credentials?: Credentials;
  /** Picks credentials for a ClientHello (by SNI, ALPN, signature schemes); undefined falls back to `credentials`. */
  readonly selectCredentials?: (info: ClientHelloInfo) => Credentials | undefined;
  /** Client certificates: not asked for (default), requested, or required (certificate_required when absent). */
  readonly clientAuth?: 'none' | 'request' | 'require';
  /** Seals and opens session tickets; without it no ticket is issued or accepted. */
  readonly ticketSealer?: TicketSealer;
  /** Ticket lifetime in seconds (default 86400, at most 604800). */
  readonly ticketLifetime?: number;
  /** Accept 0-RTT: never (default), always when the ticket allows it, or per offer. */
  readonly earlyData?: boolean | ((info: EarlyDataInfo) => boolean);
  /** max_early_data_size in tickets outside QUIC (QUIC always uses 0xffffffff); default 16384. */
  readonly maxEarlyDataSize?: number;
  /** Largest accepted gap between the client's and the server's view of a ticket's age, ms (default 10000). */
  readonly maxTicketAgeSkew?: number;
  /**
   * Makes a HelloRetryRequest carry a cookie (which the second ClientHello must echo exactly).
   * Receives the hash of the first ClientHello.
   */
  readonly helloRetryCookie?: (clientHelloHash: Uint8Array) => Uint8Array;
}
