/**
 * quicer's datagram, certificate, address and statistics functions.
 */
import type { QuicConn } from './conn-handle.js';
import type { QuicListener } from './listener.js';
import type { QuicStrm } from './stream-handle.js';

// -------------------------------------------------------------------------------------------
// Datagrams, certificates, addresses, statistics

/**
 * quicer:send_dgram/2: sends `data` in a DATAGRAM frame (RFC 9221; unreliable, never
 * retransmitted). `['ok', length]`; `['error', 'dgram_send_error', 'invalid_state']` when the peer
 * does not accept datagrams (it did not set `datagram_receive_enabled`), `'invalid_parameter'` when
 * `data` is larger than `dgram_max_len`, `'out_of_memory'` when the datagram queue is full;
 * `['error', 'closed']` when the connection is gone.
 */
export function sendDgram(conn: QuicConn, data: Uint8Array): readonly ['ok', number] | readonly ['error', 'dgram_send_error', string] | readonly ['error', 'closed'] {
  const ec = conn.ec;
  if (ec === undefined || conn.closed) return ['error', 'closed'];
  if (ec.conn.maxDatagramPayload === 0) return ['error', 'dgram_send_error', 'invalid_state'];
  if (data.length > ec.conn.maxDatagramPayload) return ['error', 'dgram_send_error', 'invalid_parameter'];
  return ec.sendDatagram(data) ? ['ok', data.length] : ['error', 'dgram_send_error', 'out_of_memory'];
}

/**
 * Server: sends the client another resumption ticket carrying `data` (MsQuic's
 * ConnectionSendResumptionTicket, which quicer does not expose; purequic, QUICER.md §4). When
 * the client later resumes with that ticket (`nst_received` gave it; `conn_opts.nst` offers it),
 * the server's `resumed` callback gets `data`. `['ok']`; `['error', 'invalid_state']` on a
 * client, before `connected`, or when the client cannot use tickets (it offered no
 * psk_dhe_ke); `['error', 'closed']` when the connection
 * is gone or closing. Throws a TypeError when `data` is not a `Uint8Array`, a RangeError when
 * it is larger than 4096 bytes.
 */
export function sendResumptionTicket(conn: QuicConn, data: Uint8Array): readonly ['ok'] | readonly ['error', 'closed' | 'invalid_state'] {
  if (!(data instanceof Uint8Array)) throw new TypeError(`sendResumptionTicket: data must be a Uint8Array, got ${typeof data}`);
  if (data.length > MAX_RESUMPTION_DATA) throw new RangeError(`sendResumptionTicket: data is ${data.length} bytes; at most ${MAX_RESUMPTION_DATA} are allowed`);
  const ec = conn.ec;
  if (ec === undefined || conn.closed || ec.shutdownInfo !== undefined) return ['error', 'closed'];
  const c = ec.conn;
  if (c.role !== 'server' || !c.handshakeComplete || !c.hasTicketSealer) return ['error', 'invalid_state'];
  return ec.sendSessionTicket(data) ? ['ok'] : ['error', 'invalid_state'];
}

/** Largest resumption data `sendResumptionTicket` accepts: the sealed ticket must stay well inside its 64 KB field. */
const MAX_RESUMPTION_DATA = 4096;

/**
 * quicer:complete_cert_validation/2,3: the application's verdict on a `peer_cert_received`
 * (`custom_verify`). `accept` true lets the handshake go on; false fails it with TLS alert
 * `tlsAlert` (default 42, bad_certificate), which the peer sees as error `0x100 + alert`. `['ok']`,
 * `['error', 'invalid_state']` when no verdict is pending (none was asked for, or it was given
 * already), or `['error', 'closed']` when the connection is gone. Throws TypeError / RangeError
 * for a non-boolean `accept` or, when rejecting, an alert outside 1..255.
 */
export function completeCertValidation(conn: QuicConn, accept: boolean, tlsAlert = 42): readonly ['ok'] | readonly ['error', 'closed' | 'invalid_state'] {
  if (typeof accept !== 'boolean') throw new TypeError(`completeCertValidation: accept must be true or false, got ${String(accept)}`);
  if (!accept && (!Number.isInteger(tlsAlert) || tlsAlert < 1 || tlsAlert > 255)) {
    throw new RangeError(`completeCertValidation: tlsAlert ${String(tlsAlert)} is not a TLS alert code; expected an integer in 1..255 (e.g. 42, bad_certificate)`);
  }
  const ec = conn.ec;
  if (ec === undefined || conn.closed) return ['error', 'closed'];
  if (!ec.conn.tls.isAwaitingCertificateVerdict) return ['error', 'invalid_state'];
  ec.completeCertificateVerification(accept ? { ok: true } : { ok: false, alert: tlsAlert, reason: `rejected by the application (alert ${tlsAlert})` });
  return ['ok'];
}

/**
 * quicer:peercert/1: the peer's leaf certificate (DER) of a connection, or of a stream's
 * connection. `['error', 'no_peercert']` when the peer sent none (a client without a certificate)
 * or it has not arrived yet.
 */
export function peercert(h: QuicConn | QuicStrm): readonly ['ok', Uint8Array] | readonly ['error', 'no_peercert'] {
  const c = h.kind === 'stream' ? h.conn : h;
  const leaf = c.peerChain?.[0];
  return leaf !== undefined ? ['ok', leaf] : ['error', 'no_peercert'];
}

/**
 * quicer:negotiated_protocol/1: `['ok', alpn]`, the application protocol both sides agreed on, or
 * `['error', 'not_found']` before it is known.
 */
export function negotiatedProtocol(conn: QuicConn): readonly ['ok', string] | readonly ['error', 'not_found'] {
  const a = conn.ec?.conn.negotiatedAlpn;
  return a !== undefined ? ['ok', a] : ['error', 'not_found'];
}

/**
 * quicer:peername/1: the peer's current address of a connection (or of a stream's connection):
 * `['ok', {address, port}]`, `['error', 'closed']` for a handle that was never started.
 */
export function peername(h: QuicConn | QuicStrm): readonly ['ok', { address: string; port: number }] | readonly ['error', 'closed'] {
  const c = h.kind === 'stream' ? h.conn : h;
  const ec = c.ec;
  if (ec === undefined) return ['error', 'closed'];
  const a = ec.remoteAddress;
  return ['ok', { address: a.address, port: a.port }];
}

/**
 * quicer:sockname/1: the local address of a connection's socket (or a stream's connection's, or a
 * listener's): `['ok', {address, port}]`, `['error', 'closed']` for a handle that was never
 * started.
 */
export function sockname(h: QuicConn | QuicStrm | QuicListener): readonly ['ok', { address: string; port: number }] | readonly ['error', 'closed'] {
  if (h.kind === 'listener') return ['ok', h.address()];
  const c = h.kind === 'stream' ? h.conn : h;
  if (c.endpoint === undefined) return ['error', 'closed'];
  const a = c.endpoint.address();
  return ['ok', { address: a.address, port: a.port }];
}

/**
 * quicer:getstat/2: inet-style counters of a connection, `['ok', [[name, value], …]]` in the order
 * asked: `send_cnt` / `recv_cnt` (packets), `send_oct` / `recv_oct` (bytes), `send_pend` (bytes in
 * flight). `['error', 'closed']` for a handle never started; `['error', 'badarg']` for another
 * name.
 */
export function getstat(conn: QuicConn, counters: readonly string[]): readonly ['ok', Array<[string, number]>] | readonly ['error', 'closed' | 'badarg'] {
  const c = conn.ec?.conn;
  if (c === undefined) return ['error', 'closed'];
  const out: Array<[string, number]> = [];
  for (const name of counters) {
    switch (name) {
      case 'send_cnt':
        out.push([name, c.stats.packetsSent]);
        break;
      case 'send_oct':
        out.push([name, c.stats.bytesSent]);
        break;
      case 'recv_cnt':
        out.push([name, c.stats.packetsReceived]);
        break;
      case 'recv_oct':
        out.push([name, c.stats.bytesReceived]);
        break;
      case 'send_pend':
        out.push([name, c.recovery.bytesInFlight]);
        break;
      default:
        return ['error', 'badarg'];
    }
  }
  return ['ok', out];
}

