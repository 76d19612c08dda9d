/**
 * quicer's `getopt` / `setopt` (QUICER.md §0.6, §1, §3e), and the settings a connection can
 * change once it exists. Error terms are quicer's: `badarg` (not a handle, not an option
 * name, a bad value for a pre-start option), `param_error` (an unknown option, a bad stream
 * option value), `not_supported` (a quicer option purequic or the handle cannot serve),
 * `invalid_parameter` (settings MsQuic would refuse, read-only counters), `invalid_state`
 * (not at this point of the connection's life), `not_found` (nothing to report yet, or an
 * unknown option at level `quic_tls`).
 */
import type { QuicConn } from './conn-handle.js';
import type { QuicListener } from './listener.js';
import {
  asOptionMap,
  handlePresetOptions,
  parseLocalAddress,
  presetHandleOption,
  QUICER_CONN_OPT_KEYS,
  SETTINGS_REPORT_KEYS,
  validateActive,
  validateConnOpts,
  type SettingsReport,
} from './options.js';
import type { QuicStrm } from './stream-handle.js';
import { customVerifyOf } from './tls-config.js';
import { nowMs } from '../endpoint/udp-endpoint.js';
import { startLocalMigration } from './quicer-connections.js';

/** A handle getopt / setopt work on. */
export type OptHandle = QuicConn | QuicStrm | QuicListener;

/** What getopt answers: `['ok', Value]` or `['error', Reason]`. */
export type GetoptResult = readonly ['ok', unknown] | readonly ['error', string];
/** What setopt answers: `['ok']` or `['error', Reason]`. */
export type SetoptResult = readonly ['ok'] | readonly ['error', string];

/** Levels of getopt/setopt: the default (`false`), or quicer's TLS level. */
export type OptLevel = false | 'quic_tls';

/**
 * Settings a connection can change after it started (QUICER.md §1c "setopt(C, settings, …)"):
 * the ones the running machinery reads each time. The others are fixed by the transport
 * parameters or the congestion state built at start: changing them is `invalid_parameter`.
 */
const RUNTIME_SETTINGS = new Set([
  'keep_alive_interval_ms',
  'peer_bidi_stream_count',
  'peer_unidi_stream_count',
  'disconnect_timeout_ms',
  'send_idle_timeout_ms',
  'handshake_idle_timeout_ms',
  'max_operations_per_drain',
]);

/** Connection options quicer knows and purequic does not serve (yet). */
const UNSUPPORTED_CONN_OPTS = new Set([
  'statistics',
  'statistics_plat',
  'statistics_v2',
  'statistics_v2_plat',
  'share_udp_binding',
  'max_stream_ids',
  'close_reason_phrase',
  'stream_scheduling_scheme',
  'ideal_processor',
  'local_interface',
  'peer_certificate_valid',
  'disable_1rtt_encryption',
  'tls_secrets',
  'version_settings',
  'cibir_id',
  'remote_address_set',
]);

function isHandle(h: unknown): h is OptHandle {
  if (h === null || typeof h !== 'object') return false;
  const k = (h as { kind?: unknown }).kind;
  return k === 'connection' || k === 'stream' || k === 'listener';
}

/** A connection opened with openConnection and not connected yet (its options are presets). */
function notStarted(conn: QuicConn): boolean {
  return conn.ec === undefined && !conn.closed && conn.side === 'client';
}

/**
 * Changes settings of a connection (`setopt(conn, 'settings', Map)`, also used by
 * `asyncHandshake(conn, connOpts)`). The whole map is validated first with the conn_opts
 * rules; nothing is applied when a value is bad, a setting cannot change any more, or a
 * quicer key is not a setting (TLS keys, alpn, … belong to the connect or listen options).
 * Throws TypeError / RangeError naming the key. Keys that are not quicer's are application
 * data and left alone.
 */
export function applyRuntimeSettings(conn: QuicConn, settings: Record<string, unknown>): void {
  const m = asOptionMap('settings', settings);
  for (const k of Object.keys(m)) {
    if (QUICER_CONN_OPT_KEYS.includes(k) && !(SETTINGS_REPORT_KEYS as readonly string[]).includes(k)) {
      throw new TypeError(`settings.${k}: is not a setting that can be given here; allowed: ${SETTINGS_REPORT_KEYS.join(', ')}`);
    }
  }
  // Only the values of the given keys are used: validate them with the client rules (a server's
  // certificate requirement belongs to its listener, not to a settings map).
  const v = validateConnOpts({ ...m, alpn: conn.opts.alpn }, { side: 'client', where: 'settings' });
  const keys = Object.keys(m).filter((k) => (SETTINGS_REPORT_KEYS as readonly string[]).includes(k));
  if (notStarted(conn)) {
    for (const k of keys) presetHandleOption(conn, k, m[k]);
    return;
  }
  for (const k of keys) {
    if (!RUNTIME_SETTINGS.has(k)) {
      throw new TypeError(`settings.${k}: ${String(m[k])} was given, but this setting cannot change once the connection started (it is fixed by the transport parameters or the state built at start); the settings that can: ${[...RUNTIME_SETTINGS].join(', ')}`);
    }
  }
  const c = conn.ec?.conn;
  for (const k of keys) {
    const value = v.settings[k]!;
    if (c !== undefined) {
      switch (k) {
        case 'keep_alive_interval_ms':
          c.setKeepAliveInterval(value as number, nowMs());
          break;
        case 'peer_bidi_stream_count':
          c.setPeerStreamLimit(true, value as number);
          break;
        case 'peer_unidi_stream_count':
          c.setPeerStreamLimit(false, value as number);
          break;
        case 'disconnect_timeout_ms':
          c.settings.disconnectTimeout = value as number;
          break;
        case 'send_idle_timeout_ms':
          c.settings.sendIdleTimeout = value as number;
          break;
        case 'handshake_idle_timeout_ms':
          c.settings.handshakeIdleTimeout = value as number;
          break;
        default:
          break;
      }
    }
    if (k === 'max_operations_per_drain') conn.owner.messagesPerTurn = value as number;
    conn.runtimeSettings[k] = value;
  }
  conn.ec?.flush();
}

/** The settings a connection reports (QUICER.md §0.6): its options, presets, and runtime changes. */
function settingsOf(conn: QuicConn): SettingsReport {
  let s: SettingsReport = conn.opts.settings;
  if (notStarted(conn)) {
    const preset = handlePresetOptions(conn);
    if (Object.keys(preset).length > 0) s = validateConnOpts({ alpn: conn.opts.alpn, ...preset }, { side: 'client' }).settings;
  }
  const out: SettingsReport = {};
  for (const k of SETTINGS_REPORT_KEYS) out[k] = conn.runtimeSettings[k] ?? s[k]!;
  return out;
}

/**
 * quicer:getopt/2,3. Connection options: `settings` (the report of QUICER.md §0.6), any single
 * setting by name, `local_bidi_stream_count` / `local_unidi_stream_count` (also
 * `local_peer_unidi_stream_count`: streams this side may still open, capped at 65535),
 * `custom_verify`, `datagram_send_enabled`, `datagram_receive_enabled`, `remote_address`,
 * `local_address`, `resumption_ticket`, `quic_version`, and at level `quic_tls`
 * `negotiated_alpn`. Streams: `stream_id`, `active`, `priority`, else their connection's
 * options. Listeners: `settings`, `alpn`, `custom_verify`, `local_address`.
 */
export function getopt(h: OptHandle, opt: string, level: OptLevel = false): GetoptResult {
  if (!isHandle(h) || typeof opt !== 'string') return ['error', 'badarg'];
  if (level !== false && level !== 'quic_tls') return ['error', 'badarg'];
  if (h.kind === 'listener') return getListenerOpt(h, opt, level);
  if (h.kind === 'stream') {
    if (level === false) {
      switch (opt) {
        case 'stream_id':
          return h.id !== undefined ? ['ok', h.id] : ['error', 'invalid_state'];
        case 'active':
          return ['ok', h.active];
        case 'priority':
          return ['ok', h.opts.priority ?? 0x7fff];
        case 'ideal_send_buffer_size':
        case '0rtt_length':
          return ['error', 'not_supported'];
        default:
          break;
      }
    }
    return getConnOpt(h.conn, opt, level);
  }
  return getConnOpt(h, opt, level);
}

function getConnOpt(conn: QuicConn, opt: string, level: OptLevel): GetoptResult {
  const c = conn.ec?.conn;
  if (level === 'quic_tls') {
    if (opt !== 'negotiated_alpn') return ['error', 'not_found'];
    const a = c?.negotiatedAlpn;
    return a !== undefined ? ['ok', a] : ['error', 'invalid_state'];
  }
  switch (opt) {
    case 'settings':
      return ['ok', settingsOf(conn)];
    case 'local_bidi_stream_count':
      return c ? ['ok', Math.min(65535, c.streamsAvailable(true))] : ['error', 'invalid_state'];
    case 'local_unidi_stream_count':
    case 'local_peer_unidi_stream_count':
      return c ? ['ok', Math.min(65535, c.streamsAvailable(false))] : ['error', 'invalid_state'];
    case 'custom_verify':
      return ['ok', customVerifyOf(conn)];
    case 'datagram_send_enabled':
      return c ? ['ok', c.maxDatagramPayload > 0] : ['error', 'invalid_state'];
    case 'datagram_receive_enabled':
      return ['ok', settingsOf(conn).datagram_receive_enabled];
    case 'remote_address':
      return c ? ['ok', { address: c.peerAddress.address, port: c.peerAddress.port }] : ['error', 'invalid_state'];
    case 'local_address': {
      if (conn.endpoint === undefined) return ['error', 'invalid_state'];
      const a = conn.endpoint.address();
      return ['ok', { address: a.address, port: a.port }];
    }
    case 'resumption_ticket':
      return conn.lastTicket ? ['ok', conn.lastTicket] : ['error', 'not_found'];
    case 'quic_version':
      return c ? ['ok', c.version.version] : ['error', 'invalid_state'];
    case 'negotiated_alpn': {
      const a = c?.negotiatedAlpn;
      return a !== undefined ? ['ok', a] : ['error', 'invalid_state'];
    }
    default: {
      if ((SETTINGS_REPORT_KEYS as readonly string[]).includes(opt)) return ['ok', settingsOf(conn)[opt]];
      return UNSUPPORTED_CONN_OPTS.has(opt) ? ['error', 'not_supported'] : ['error', 'param_error'];
    }
  }
}

function getListenerOpt(l: QuicListener, opt: string, level: OptLevel): GetoptResult {
  if (level === 'quic_tls') return ['error', 'not_found'];
  switch (opt) {
    case 'settings': {
      const out: SettingsReport = {};
      for (const k of SETTINGS_REPORT_KEYS) out[k] = l.opts.settings[k]!;
      return ['ok', out];
    }
    case 'alpn':
      return ['ok', [...l.opts.alpn]];
    case 'custom_verify':
      return ['ok', l.opts.customVerify];
    case 'local_address':
      return ['ok', l.address()];
    default:
      if ((SETTINGS_REPORT_KEYS as readonly string[]).includes(opt)) return ['ok', l.opts.settings[opt]];
      return ['error', 'param_error'];
  }
}

/**
 * quicer:setopt/3,4. Connections: `settings` (a map of settings; see `applyRuntimeSettings`),
 * `custom_verify` (until the peer certificate was decided on), and before a handle from
 * `openConnection` is connected: `local_address`, `resumption_ticket`,
 * `datagram_receive_enabled` (and `settings`, `custom_verify`), applied when it connects.
 * Streams: `active`, `priority`; `stream_id` and the other read-only stream values are
 * `not_supported`. Listeners: `custom_verify` (new connections).
 */
export function setopt(h: OptHandle, opt: string, value: unknown, level: OptLevel = false): SetoptResult {
  if (!isHandle(h) || typeof opt !== 'string') return ['error', 'badarg'];
  if (level !== false && level !== 'quic_tls') return ['error', 'badarg'];
  if (level === 'quic_tls') return ['error', 'not_found'];
  if (h.kind === 'stream') {
    switch (opt) {
      case 'active': {
        let mode;
        try {
          mode = validateActive('setopt', value);
        } catch {
          return ['error', 'param_error'];
        }
        h.setActive(mode);
        return ['ok'];
      }
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
        return setConnOpt(h.conn, opt, value);
    }
  }
  if (h.kind === 'listener') return setListenerOpt(h, opt, value);
  return setConnOpt(h, opt, value);
}

function setConnOpt(conn: QuicConn, opt: string, value: unknown): SetoptResult {
  const pre = notStarted(conn);
  switch (opt) {
    case 'settings':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['error', 'badarg'];
      try {
        applyRuntimeSettings(conn, value as Record<string, unknown>);
      } catch {
        return ['error', 'invalid_parameter'];
      }
      return ['ok'];
    case 'custom_verify':
      if (typeof value !== 'boolean') return ['error', 'param_error'];
      if (pre) {
        presetHandleOption(conn, 'custom_verify', value);
        return ['ok'];
      }
      if (conn.closed || conn.handshakeCompleted || conn.peerChain !== undefined) return ['error', 'invalid_state'];
      if (!conn.opts.customVerify && !conn.opts.verifyPeer) return ['error', 'invalid_state'];
      conn.runtimeSettings.custom_verify = value;
      return ['ok'];
    case 'local_address':
      // Started: a client moves to the new address once its handshake is confirmed (QUICER.md §1a).
      if (!pre) return startLocalMigration(conn, value);
      try {
        parseLocalAddress('setopt', 'local_address', value);
      } catch {
        return ['error', 'badarg'];
      }
      presetHandleOption(conn, 'local_address', value);
      return ['ok'];
    case 'resumption_ticket':
      if (!pre) return ['error', 'invalid_state'];
      if (!(value instanceof Uint8Array) || value.length === 0) return ['error', 'badarg'];
      presetHandleOption(conn, 'nst', value);
      return ['ok'];
    case 'datagram_receive_enabled':
      if (!pre) return ['error', 'invalid_state'];
      if (typeof value !== 'boolean' && value !== 0 && value !== 1) return ['error', 'badarg'];
      presetHandleOption(conn, 'datagram_receive_enabled', value);
      return ['ok'];
    case 'local_bidi_stream_count':
    case 'local_unidi_stream_count':
    case 'local_peer_unidi_stream_count':
      return ['error', 'invalid_parameter'];
    default:
      if (UNSUPPORTED_CONN_OPTS.has(opt)) return ['error', 'not_supported'];
      return ['error', 'param_error'];
  }
}

function setListenerOpt(l: QuicListener, opt: string, value: unknown): SetoptResult {
  if (opt !== 'custom_verify') return ['error', 'param_error'];
  if (typeof value !== 'boolean') return ['error', 'param_error'];
  const lopts: Record<string, unknown> = { ...l.rawOpts, custom_verify: value };
  const { conn_acceptors: _n, ...rest } = lopts;
  void _n;
  try {
    validateConnOpts(rest, { side: 'server', where: 'listen_opts', requireCertificate: true });
  } catch {
    return ['error', 'invalid_parameter'];
  }
  // Without a new address, reload applies the options before it returns its promise.
  l.reload(lopts).catch(() => {});
  return ['ok'];
}
