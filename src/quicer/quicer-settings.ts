/**
 * quicer's getopt / setopt, and the settings a running connection can change.
 */
import type { QuicConn } from './conn-handle.js';
import type { QuicListener } from './listener.js';
import { validateActive, validateConnOpts, MSQUIC_DEFAULTS } from './options.js';
import type { QuicStrm } from './stream-handle.js';
import { nowMs } from '../endpoint/udp-endpoint.js';

// -------------------------------------------------------------------------------------------
// getopt / setopt

/** Settings a running connection can change (QUICER.md §1c "setopt(C, settings, …)"). */
export function applyRuntimeSettings(conn: QuicConn, settings: Record<string, unknown>): void {
  // Validate against the same rules first (throws; nothing applied on error).
  const side = conn.side;
  const v = validateConnOpts({ alpn: conn.opts.alpn, ...settings }, { side, where: 'settings' });
  const c = conn.ec?.conn;
  for (const key of Object.keys(settings)) {
    switch (key) {
      case 'keep_alive_interval_ms':
        c?.setKeepAliveInterval(v.settings.keep_alive_interval_ms as number, nowMs());
        break;
      case 'peer_bidi_stream_count':
        c?.setPeerStreamLimit(true, v.settings.peer_bidi_stream_count as number);
        break;
      case 'peer_unidi_stream_count':
        c?.setPeerStreamLimit(false, v.settings.peer_unidi_stream_count as number);
        break;
      case 'alpn':
        break;
      default:
        if (!(key in MSQUIC_DEFAULTS)) throw new TypeError(`settings.${key}: not a setting`);
        throw new TypeError(`settings.${key}: cannot change on a running connection (it is sent in the transport parameters or fixed at start)`);
    }
    conn.runtimeSettings[key] = v.settings[key]!;
  }
  conn.ec?.flush();
}

/** The settings a connection reports (QUICER.md §0.6), with runtime changes. */
function settingsOf(conn: QuicConn): Record<string, number | boolean> {
  return { ...conn.opts.settings, ...conn.runtimeSettings };
}

/** quicer:getopt/2,3. */
export function getopt(h: QuicConn | QuicStrm | QuicListener, opt: string, level?: string): readonly ['ok', unknown] | readonly ['error', string] {
  if (h.kind === 'listener') {
    if (opt === 'settings') return ['ok', { ...h.opts.settings }];
    if (opt === 'alpn') return ['ok', h.opts.alpn];
    return ['error', 'not_supported'];
  }
  if (h.kind === 'stream') {
    switch (opt) {
      case 'stream_id':
        return h.id !== undefined ? ['ok', h.id] : ['error', 'invalid_state'];
      case 'active':
        return ['ok', h.active];
      case 'priority':
        return ['ok', h.opts.priority ?? 0x7fff];
      default:
        return ['error', 'not_supported'];
    }
  }
  const conn = h;
  const c = conn.ec?.conn;
  if (level === 'quic_tls' || opt === 'negotiated_alpn') {
    const a = c?.negotiatedAlpn;
    return a !== undefined ? ['ok', a] : ['error', 'not_found'];
  }
  const s = settingsOf(conn);
  switch (opt) {
    case 'settings':
      return ['ok', s];
    case 'local_bidi_stream_count':
      return c ? ['ok', Math.min(65535, c.streamsAvailable(true))] : ['error', 'invalid_state'];
    case 'local_unidi_stream_count':
      return c ? ['ok', Math.min(65535, c.streamsAvailable(false))] : ['error', 'invalid_state'];
    case 'custom_verify':
      return ['ok', conn.opts.customVerify];
    case 'datagram_send_enabled':
      return ['ok', (c?.maxDatagramPayload ?? 0) > 0];
    case 'datagram_receive_enabled':
      return ['ok', conn.opts.datagramReceiveEnabled];
    case 'remote_address':
      return c ? ['ok', { address: c.peerAddress.address, port: c.peerAddress.port }] : ['error', 'invalid_state'];
    case 'local_address':
      return conn.endpoint ? ['ok', conn.endpoint.address()] : ['error', 'invalid_state'];
    case 'resumption_ticket':
      return conn.lastTicket ? ['ok', conn.lastTicket] : ['error', 'not_found'];
    default:
      if (opt in s) return ['ok', s[opt]];
      return ['error', 'not_supported'];
  }
}

/** quicer:setopt/3,4. */
export function setopt(h: QuicConn | QuicStrm | QuicListener, opt: string, value: unknown): readonly ['ok'] | readonly ['error', string] {
  if (h.kind === 'stream') {
    switch (opt) {
      case 'active':
        try {
          h.setActive(validateActive('setopt', value));
        } catch {
          return ['error', 'param_error'];
        }
        return ['ok'];
      case 'priority': {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) return ['error', 'param_error'];
        (h.opts as { priority: number | undefined }).priority = value;
        if (h.id !== undefined) h.conn.ec?.conn.streamSetPriority(h.id, value);
        return ['ok'];
      }
      case 'stream_id':
      case 'ideal_send_buffer_size':
      case '0rtt_length':
        return ['error', 'not_supported'];
      default:
        return ['error', 'not_supported'];
    }
  }
  if (h.kind === 'listener') return ['error', 'not_supported'];
  const conn = h;
  switch (opt) {
    case 'settings':
      if (value === null || typeof value !== 'object') return ['error', 'invalid_parameter'];
      try {
        applyRuntimeSettings(conn, value as Record<string, unknown>);
      } catch {
        return ['error', 'invalid_parameter'];
      }
      return ['ok'];
    case 'custom_verify':
      if (typeof value !== 'boolean') return ['error', 'param_error'];
      if (conn.handshakeCompleted) return ['error', 'invalid_state'];
      (conn.opts as { customVerify: boolean }).customVerify = value;
      return ['ok'];
    case 'local_bidi_stream_count':
    case 'local_unidi_stream_count':
      return ['error', 'invalid_parameter'];
    default:
      return ['error', 'not_supported'];
  }
}
