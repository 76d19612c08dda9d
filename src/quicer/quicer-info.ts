/**
 * quicer's datagram, certificate, address and statistics functions.
 */
import type { QuicConn } from './conn-handle.js';
import type { QuicListener } from './listener.js';
import type { QuicStrm } from './stream-handle.js';

// -------------------------------------------------------------------------------------------
// Datagrams, certificates, addresses, statistics

/** quicer:send_dgram/2: `['error', 'dgram_send_error', 'invalid_state']` when the peer does not accept datagrams. */
export function sendDgram(conn: QuicConn, data: Uint8Array): readonly ['ok', number] | readonly ['error', 'dgram_send_error', string] | readonly ['error', 'closed'] {
  const ec = conn.ec;
  if (ec === undefined || conn.closed) return ['error', 'closed'];
  if (ec.conn.maxDatagramPayload === 0) return ['error', 'dgram_send_error', 'invalid_state'];
  if (data.length > ec.conn.maxDatagramPayload) return ['error', 'dgram_send_error', 'invalid_parameter'];
  return ec.sendDatagram(data) ? ['ok', data.length] : ['error', 'dgram_send_error', 'out_of_memory'];
}

/** quicer:complete_cert_validation/3: the verdict on a `peer_cert_received`. */
export function completeCertValidation(conn: QuicConn, accept: boolean, tlsAlert = 42): readonly ['ok'] | readonly ['error', 'closed'] {
  if (conn.ec === undefined || conn.closed) return ['error', 'closed'];
  conn.ec.completeCertificateVerification(accept ? { ok: true } : { ok: false, alert: tlsAlert, reason: `rejected by the application (alert ${tlsAlert})` });
  return ['ok'];
}

/** quicer:peercert/1: the peer's leaf certificate (DER). */
export function peercert(h: QuicConn | QuicStrm): readonly ['ok', Uint8Array] | readonly ['error', 'no_peercert'] {
  const c = h.kind === 'stream' ? h.conn : h;
  const leaf = c.peerChain?.[0];
  return leaf !== undefined ? ['ok', leaf] : ['error', 'no_peercert'];
}

/** quicer:negotiated_protocol/1. */
export function negotiatedProtocol(conn: QuicConn): readonly ['ok', string] | readonly ['error', 'not_found'] {
  const a = conn.ec?.conn.negotiatedAlpn;
  return a !== undefined ? ['ok', a] : ['error', 'not_found'];
}

/** quicer:peername/1. */
export function peername(h: QuicConn | QuicStrm): readonly ['ok', { address: string; port: number }] | readonly ['error', 'closed'] {
  const c = h.kind === 'stream' ? h.conn : h;
  const ec = c.ec;
  if (ec === undefined) return ['error', 'closed'];
  const a = ec.remoteAddress;
  return ['ok', { address: a.address, port: a.port }];
}

/** quicer:sockname/1. */
export function sockname(h: QuicConn | QuicStrm | QuicListener): readonly ['ok', { address: string; port: number }] | readonly ['error', 'closed'] {
  if (h.kind === 'listener') return ['ok', h.address()];
  const c = h.kind === 'stream' ? h.conn : h;
  if (c.endpoint === undefined) return ['error', 'closed'];
  const a = c.endpoint.address();
  return ['ok', { address: a.address, port: a.port }];
}

/** quicer:getstat/2: inet-style counters (`send_cnt`, `send_oct`, `recv_cnt`, `recv_oct`, `send_pend`). */
export function getstat(conn: QuicConn, counters: readonly string[]): readonly ['ok', Array<[string, number]>] | readonly ['error', string] {
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
        return ['error', `unknown counter ${name}`];
    }
  }
  return ['ok', out];
}

