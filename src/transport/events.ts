/**
 * What a connection tells its driver: the typed events `Connection.pollEvent()` returns.
 * Stream events are edge-triggered (one `streamReadable` until the application reads), so an
 * application pulling events never sees a per-packet flood.
 */
import type { CertificateVerdict, ChainVerificationRequest } from '../tls/types.js';

/** Why and by whom a connection ended (quicer's transport_shutdown / shutdown / closed carry this). */
export interface ConnectionCloseInfo {
  /**
   * - `application`: our application called close().
   * - `peer-application`: the peer closed with an application error (CONNECTION_CLOSE 0x1d).
   * - `transport`: a transport error we detected (protocol violation, TLS alert, …).
   * - `peer-transport`: the peer closed with a transport error (CONNECTION_CLOSE 0x1c).
   * - `idle-timeout`, `handshake-timeout`: timers ran out (silent close).
   * - `stateless-reset`: the peer reset the connection.
   * - `version-negotiation`: the server supports none of our versions.
   * - `unreachable`: the network reported the peer unreachable.
   * - `disconnect-timeout`: data stayed unacknowledged for the disconnect timeout (the path is dead).
   */
  readonly source:
    | 'application'
    | 'peer-application'
    | 'transport'
    | 'peer-transport'
    | 'idle-timeout'
    | 'handshake-timeout'
    | 'stateless-reset'
    | 'version-negotiation'
    | 'unreachable'
    | 'disconnect-timeout';
  /** Transport error code (0x100+alert for TLS alerts) or application error code. */
  readonly code: bigint;
  /** Frame type that triggered a transport error (0 if none). */
  readonly frameType: number;
  readonly reason: string;
}

export type ConnectionEvent =
  /** TLS finished: ALPN agreed, peer authenticated (server: client Finished received). */
  | {
      readonly type: 'handshakeCompleted';
      readonly alpn: string | undefined;
      readonly resumed: boolean;
      readonly earlyData: 'accepted' | 'rejected' | 'not-offered';
      readonly peerCertificates: readonly Uint8Array[] | undefined;
      readonly serverName: string | undefined;
      readonly cipherSuite: string;
      /** Server, resumed: the application data the ticket carried (`Connection.sendSessionTicket`; empty when none). */
      readonly resumptionData?: Uint8Array;
    }
  /** Server: the client's ClientHello arrived (SNI and offered ALPN); the handshake goes on (or waits, when held). */
  | { readonly type: 'clientHello'; readonly serverName: string | undefined; readonly alpn: readonly string[] }
  /** The handshake is confirmed (RFC 9001 §4.1.2). */
  | { readonly type: 'handshakeConfirmed' }
  /**
   * The peer presented certificates. With `awaitingVerdict` the handshake waits for
   * `completeCertificateVerification` (custom verification by the application, or the
   * built-in asynchronous chain check that the driver runs with `request`).
   */
  | {
      readonly type: 'peerCertificates';
      readonly chain: readonly Uint8Array[];
      readonly verification: 'none' | 'builtin' | 'custom';
      readonly awaitingVerdict: boolean;
      readonly request: ChainVerificationRequest | undefined;
    }
  /** The peer opened a stream. */
  | { readonly type: 'streamOpened'; readonly streamId: number }
  /** Data (or the FIN) can be read from a stream. */
  | { readonly type: 'streamReadable'; readonly streamId: number }
  /** A stream that was blocked by flow control can take more data. */
  | { readonly type: 'streamWritable'; readonly streamId: number }
  /** The peer abandoned its sending part (RESET_STREAM). */
  | { readonly type: 'streamReset'; readonly streamId: number; readonly errorCode: bigint; readonly finalSize: number }
  /** The peer asked us to stop sending (STOP_SENDING). */
  | { readonly type: 'streamStopSending'; readonly streamId: number; readonly errorCode: bigint }
  /** The acknowledged prefix of a stream grew to `offset` (only for streams asked with `streamNotifyAcked`). */
  | { readonly type: 'streamDataAcked'; readonly streamId: number; readonly offset: number }
  /** Everything written on the stream, FIN included, was acknowledged. */
  | { readonly type: 'streamSendComplete'; readonly streamId: number }
  /** The stream is gone: both parts reached a terminal state. */
  | { readonly type: 'streamClosed'; readonly streamId: number }
  /** The peer raised our stream limit (MAX_STREAMS). */
  | { readonly type: 'streamsAvailable'; readonly bidi: number; readonly uni: number }
  /** The peer is blocked on the stream limit we gave it (STREAMS_BLOCKED). */
  | { readonly type: 'peerNeedsStreams'; readonly bidi: boolean }
  /** The peer has data to send but is blocked by our connection limit `limit` (DATA_BLOCKED). */
  | { readonly type: 'peerDataBlocked'; readonly limit: number }
  /** The peer has data to send on a stream but is blocked by our stream limit `limit` (STREAM_DATA_BLOCKED). */
  | { readonly type: 'peerStreamDataBlocked'; readonly streamId: number; readonly limit: number }
  /** An unreliable datagram arrived (RFC 9221). */
  | { readonly type: 'datagram'; readonly data: Uint8Array }
  /** Client: a resumption ticket (opaque bytes to pass back as `session` later). */
  | { readonly type: 'sessionTicket'; readonly ticket: Uint8Array }
  /** Client: a NEW_TOKEN for address validation on a later connection to this server. */
  | { readonly type: 'newToken'; readonly token: Uint8Array }
  /** Client: the server accepted or rejected our 0-RTT data. */
  | { readonly type: 'earlyData'; readonly status: 'accepted' | 'rejected' }
  /** A connection ID of ours became valid / stopped being valid (for the endpoint's routing table). */
  | { readonly type: 'connectionIdAdded'; readonly cid: Uint8Array; readonly resetToken: Uint8Array }
  | { readonly type: 'connectionIdRetired'; readonly cid: Uint8Array }
  /**
   * The peer's address changed (migration or NAT rebinding) and the new address is validated
   * (RFC 9000 §8.2): it fires when a PATH_RESPONSE proves the peer receives there, not when the
   * first packet arrives from it (datagrams go there before, within the anti-amplification limit).
   */
  | { readonly type: 'peerAddressChanged'; readonly address: PathAddress }
  /** The path MTU changed (DPLPMTUD): datagram and packet sizes follow. */
  | { readonly type: 'pathMtuChanged'; readonly maxDatagramSize: number }
  /** The connection stopped being usable: closing or draining started. */
  | { readonly type: 'shutdownInitiated'; readonly info: ConnectionCloseInfo }
  /** The connection is finished; no more events follow. */
  | { readonly type: 'closed'; readonly info: ConnectionCloseInfo };

/** A UDP peer address. */
export interface PathAddress {
  readonly address: string;
  readonly port: number;
  readonly family?: 'IPv4' | 'IPv6';
}

export type { CertificateVerdict };
