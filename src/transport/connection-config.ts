import type { CongestionAlgorithm } from '../congestion/controller.js';
import type { CryptoBackend } from '../crypto/backend.js';
import type { TlsClientConfig, TlsServerConfig } from '../tls/types.js';
import type { ConnectionIdSource } from './connection-id.js';
import type { TokenProtector } from './token.js';

/** Transport settings of one connection. Every field has a default (see `defaultTransportSettings`). */
export interface TransportSettings {
  /** Idle timeout we advertise (ms); 0 disables it. The effective one is the smaller of both sides'. */
  maxIdleTimeout: number;
  /** Give up a handshake that has not completed after this long (ms); 0 disables it. */
  handshakeIdleTimeout: number;
  /** Connection-level receive window we start with (initial_max_data). */
  initialMaxData: number;
  /** Upper bound of the auto-tuned connection receive window. */
  maxConnectionWindow: number;
  /** Stream receive windows we start with (initial_max_stream_data_*). */
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  /** Upper bound of an auto-tuned stream receive window. */
  maxStreamWindow: number;
  /** Streams the peer may open (initial_max_streams_*). */
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** max_ack_delay we advertise and honour (ms). */
  maxAckDelay: number;
  /** Ack-eliciting packets received before an ACK is sent at once (2 per RFC 9000 §13.2.2). */
  ackElicitingThreshold: number;
  activeConnectionIdLimit: number;
  /** max_udp_payload_size we advertise. */
  maxUdpPayloadSize: number;
  /** Largest UDP payload we send before path MTU discovery raises it; ≥ 1200. */
  initialMaxDatagramSize: number;
  /**
   * Probe for a larger path MTU (RFC 8899 DPLPMTUD) up to this UDP payload size once the
   * handshake is confirmed; at most 1200 disables probing. The UDP endpoint raises the default
   * to the loopback interface's limit for loopback peers.
   */
  mtuDiscoveryMax: number;
  /** max_datagram_frame_size we advertise; 0 = DATAGRAM frames not accepted. */
  maxDatagramFrameSize: number;
  disableActiveMigration: boolean;
  /** RTT assumed before the first sample (ms). */
  initialRtt: number;
  congestionControl: CongestionAlgorithm;
  /** Initial congestion window in packets (RFC 9002 default when undefined). */
  initialWindowPackets: number | undefined;
  pacing: boolean;
  /** Send a PING after this much idle time (ms) to keep the connection (and NAT bindings) alive; 0 disables. */
  keepAliveInterval: number;
  /** After this long without sending (ms), restart from the initial window (MsQuic SendIdleTimeoutMs); 0 disables. */
  sendIdleTimeout: number;
  /** Declare the peer unreachable when ack-eliciting data is unacknowledged this long (ms, MsQuic DisconnectTimeoutMs). */
  disconnectTimeout: number;
  /** Largest number of ACK ranges kept per packet number space. */
  maxAckRanges: number;
  /** Server: issue a NEW_TOKEN after the handshake (needs a token protector). */
  issueNewToken: boolean;
  /** Server: issue a session ticket after the handshake (needs the TLS ticket sealer). */
  issueSessionTicket: boolean;
  /** Greasing of the QUIC bit (RFC 9287): advertise that we accept a cleared fixed bit. */
  greaseQuicBit: boolean;
  /** MsQuic's disable_1rtt_encryption: offer (and use when the peer offers it too) unprotected 1-RTT payloads. */
  disable1RttEncryption: boolean;
  /**
   * Largest number of TLS handshake bytes (Initial and Handshake levels) buffered for sending
   * and not yet acknowledged (MsQuic's TlsClient/ServerMaxSendBuffer); a larger TLS flight
   * fails the handshake with INTERNAL_ERROR. 0: no limit.
   */
  maxTlsSendBuffer: number;
}

export function defaultTransportSettings(): TransportSettings {
  return {
    maxIdleTimeout: 30_000,
    handshakeIdleTimeout: 10_000,
    initialMaxData: 16 * 1024 * 1024,
    maxConnectionWindow: 64 * 1024 * 1024,
    initialMaxStreamDataBidiLocal: 64 * 1024,
    initialMaxStreamDataBidiRemote: 64 * 1024,
    initialMaxStreamDataUni: 64 * 1024,
    maxStreamWindow: 16 * 1024 * 1024,
    initialMaxStreamsBidi: 100,
    initialMaxStreamsUni: 100,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    ackElicitingThreshold: 2,
    activeConnectionIdLimit: 4,
    maxUdpPayloadSize: 65527,
    initialMaxDatagramSize: 1200,
    mtuDiscoveryMax: 1452,
    maxDatagramFrameSize: 0,
    disableActiveMigration: false,
    initialRtt: 333,
    congestionControl: 'cubic',
    initialWindowPackets: undefined,
    pacing: true,
    keepAliveInterval: 0,
    sendIdleTimeout: 1000,
    disconnectTimeout: 16_000,
    maxAckRanges: 64,
    issueNewToken: true,
    issueSessionTicket: true,
    greaseQuicBit: false,
    disable1RttEncryption: false,
    maxTlsSendBuffer: 0,
  };
}

interface CommonConfig {
  /** QUIC version to speak (default v1). */
  version?: number;
  crypto?: CryptoBackend;
  /** Issues our connection IDs and their stateless reset tokens. */
  connectionIds: ConnectionIdSource;
  transport?: Partial<TransportSettings>;
  /** qlog-style trace sink: called with (event name, data) for notable transport events. */
  trace?: (name: string, data: Record<string, unknown>) => void;
}

export interface ClientConnectionConfig extends CommonConfig {
  /** TLS settings; `transportParameters` is filled in by the connection. */
  tls: Omit<TlsClientConfig, 'transportParameters' | 'crypto'>;
  /** A NEW_TOKEN from an earlier connection to the same server (skips a Retry). */
  token?: Uint8Array;
  /** Original DCID length (8–20; default 8). */
  initialDcidLength?: number;
}

export interface ServerConnectionConfig extends CommonConfig {
  tls: Omit<TlsServerConfig, 'transportParameters' | 'crypto'>;
  /** Seals NEW_TOKEN tokens (and lets the connection know the key for them). */
  tokens?: TokenProtector;
}

/** What the endpoint knows when it accepts a server connection from a client's first Initial. */
export interface ServerAcceptInfo {
  /** The DCID of the client's very first Initial (before any Retry). */
  originalDcid: Uint8Array;
  /** The DCID the client's current Initial carries (our Retry SCID after a Retry, else = originalDcid). */
  initialDcid: Uint8Array;
  /** Set when the endpoint performed a Retry: the SCID of our Retry packet. */
  retrySourceCid?: Uint8Array;
  /** The client's address was validated by a token (Retry or NEW_TOKEN): no amplification limit. */
  addressValidated: boolean;
  /** Our connection ID for this connection (sequence 0). */
  localCid: Uint8Array;
  /** The version the client's Initial uses. */
  version: number;
  /**
   * Hold the handshake: process the client's Initial but send nothing until `releaseHandshake()`
   * (quicer's servers continue a handshake only when the application calls handshake()).
   */
  holdHandshake?: boolean;
}
