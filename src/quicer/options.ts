/**
 * quicer's `conn_opts` (and listener options) validated and turned into engine settings.
 * Every key QUICER.md §1 lists is known here: wrong type, out of range, read-only, or a
 * feature not available yet → a `TypeError` / `RangeError` whose message names the key, the
 * value and what is allowed, before any packet is sent (QUICER.md §4: purequic does not
 * silently drop bad values). Keys that are not quicer's pass through untouched as application
 * data (quicer hands them to the callback's `init`). `stream_opts` (QUICER.md §3e) are validated at the end of this file.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';
import type { TransportSettings } from '../transport/connection-config.js';
import { loadCertificateChain, loadPrivateKey, certificateMatchesKey } from '../tls/credentials.js';
import { readCertificateChainFile, readPrivateKeyFile, readTrustedCertificatesFile } from '../tls/credential-files.js';

/** MsQuic 2.5 defaults of the settings quicer exposes (QUICER.md §1c). */
export const MSQUIC_DEFAULTS = {
  max_bytes_per_key: 274_877_906_944,
  handshake_idle_timeout_ms: 10_000,
  idle_timeout_ms: 30_000,
  tls_client_max_send_buffer: 4096,
  tls_server_max_send_buffer: 8192,
  stream_recv_window_default: 65_536,
  stream_recv_buffer_default: 4096,
  conn_flow_control_window: 16_777_216,
  max_stateless_operations: 16,
  initial_window_packets: 10,
  send_idle_timeout_ms: 1000,
  initial_rtt_ms: 333,
  max_ack_delay_ms: 25,
  disconnect_timeout_ms: 16_000,
  keep_alive_interval_ms: 0,
  congestion_control_algorithm: 0,
  peer_bidi_stream_count: 0,
  peer_unidi_stream_count: 0,
  max_operations_per_drain: 16,
  send_buffering_enabled: true,
  pacing_enabled: true,
  migration_enabled: true,
  datagram_receive_enabled: false,
  server_resumption_level: 0,
} as const;

/** quicer merges these into every client connect (QUICER.md §0.1). */
export const QUICER_CLIENT_DEFAULTS = { peer_bidi_stream_count: 1, peer_unidi_stream_count: 1 } as const;

/** A value as it appears in an option error message. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return String(v);
}

/** The error for a bad option: names the key, the value and what is allowed (RangeError when `range`, else TypeError). */
export function optionError(where: string, key: string, value: unknown, allowed: string, range = false): Error {
  const msg = `${where}.${key}: ${show(value)} is not allowed; expected ${allowed}`;
  return range ? new RangeError(msg) : new TypeError(msg);
}

/** Largest QUIC variable-length integer (2^62 − 1), the bound of MsQuic's 64-bit timeouts. */
const MAX_VARINT = 2n ** 62n - 1n;
const U32 = 0xffff_ffff;

/**
 * An integer in [min, max], given as a number or a bigint (compared exactly, so 2^62 is not
 * taken for 2^62 − 1); returned as a number, at most `Number.MAX_SAFE_INTEGER`.
 */
function uint(where: string, key: string, v: unknown, min: number, max: number | bigint, what?: string): number {
  const allowed = what ?? `an integer in ${min}..${max}`;
  let big: bigint;
  if (typeof v === 'bigint') big = v;
  else if (typeof v === 'number' && Number.isInteger(v)) big = BigInt(v);
  else throw optionError(where, key, v, allowed);
  if (big < BigInt(min) || big > BigInt(max)) throw optionError(where, key, v, allowed, true);
  return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
}

/** A boolean; quicer's 1-bit settings also take 0 / 1. */
function flag(where: string, key: string, v: unknown, allowInt: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (allowInt && (v === 0 || v === 1)) return v === 1;
  throw optionError(where, key, v, allowInt ? 'true, false, 0 or 1' : 'true or false');
}

function str(where: string, key: string, v: unknown, what = 'a non-empty string'): string {
  if (typeof v !== 'string' || v.length === 0) throw optionError(where, key, v, what);
  return v;
}

function pemOrDer(where: string, key: string, v: unknown): string | Uint8Array {
  if (typeof v === 'string' && v.length > 0) return v;
  if (v instanceof Uint8Array && v.length > 0) return v;
  throw optionError(where, key, v, 'PEM text (string) or DER / PEM bytes (Uint8Array)');
}

/** `alpn`: a non-empty list of 1–255-byte protocol names, encoded list ≤ 65535 bytes. */
export function validateAlpn(where: string, v: unknown): string[] {
  const what = 'a non-empty array of protocol names (strings of 1..255 bytes, at most 65535 bytes encoded)';
  if (!Array.isArray(v) || v.length === 0) throw optionError(where, 'alpn', v, what);
  let total = 0;
  return v.map((p) => {
    if (typeof p !== 'string') throw optionError(where, 'alpn', v, what);
    const n = Buffer.byteLength(p, 'utf8');
    if (n < 1 || n > 255) throw optionError(where, 'alpn', v, what, true);
    total += n + 1;
    if (total > 65535) throw optionError(where, 'alpn', v, what, true);
    return p;
  });
}

/** A local address: "a.b.c.d", "a.b.c.d:Port", "[v6]:Port", a bare IPv6 literal, or a port number. Host names are refused. */
export function parseLocalAddress(where: string, key: string, v: unknown): { address: string | undefined; port: number } {
  const what = 'an IP literal ("a.b.c.d", "a.b.c.d:Port", "[v6]:Port", bare IPv6) or an integer port 0..65535 (no host names)';
  if (typeof v === 'number') return { address: undefined, port: uint(where, key, v, 0, 65535, what) };
  if (typeof v !== 'string' || v.length === 0) throw optionError(where, key, v, what);
  if (isIPv4(v) || isIPv6(v)) return { address: v, port: 0 };
  let m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v);
  if (m && isIPv6(m[1]!)) return { address: m[1]!, port: uint(where, key, Number(m[2]), 0, 65535, what) };
  m = /^([^:]+):(\d{1,5})$/.exec(v);
  if (m && isIPv4(m[1]!)) return { address: m[1]!, port: uint(where, key, Number(m[2]), 0, 65535, what) };
  throw optionError(where, key, v, what);
}

/** How purequic treats a quicer key. */
export type ConnOptState = 'effective' | 'read-only' | 'not-available-yet';

/** One quicer conn_opts key: how purequic treats it and what it is about. */
export interface ConnOptInfo {
  /** The conn_opts key, as quicer spells it. */
  readonly key: string;
  /** `effective` (validated and applied), `read-only` (refused; read it with getopt) or `not-available-yet` (refused). */
  readonly state: ConnOptState;
  /** What the key is about (for read-only keys: what getopt returns; for unavailable ones: the missing feature). */
  readonly about: string;
}

const FEATURE: Record<string, string> = {
  disable_1rtt_encryption: 'unprotected 1-RTT packets (transport parameter 0xBAAD)',
  quic_registration: 'registrations other than the global one',
  certkeyasn1: 'in-memory PKCS#12 credentials (give cert/key as PEM or DER instead)',
  max_bytes_per_key: 'key updates after a byte count',
  max_stateless_operations: 'a per-worker limit on stateless operations',
  retry_memory_limit: 'Retry under handshake memory pressure',
  load_balancing_mode: 'QUIC-LB server IDs in connection IDs',
  migration_enabled: 'refusing client migration (disable_active_migration)',
  minimum_mtu: 'path MTU bounds',
  maximum_mtu: 'path MTU bounds',
  mtu_discovery_search_complete_timeout_us: 'MTU discovery tuning',
  mtu_discovery_missing_probe_count: 'MTU discovery tuning',
  max_binding_stateless_operations: 'per-binding limits on stateless operations',
  stateless_operation_expiration_ms: 'per-binding limits on stateless operations',
  max_worker_queue_delay_us: 'a worker queue delay budget',
};

const READ_ONLY: Record<string, string> = {
  local_bidi_stream_count: 'how many more bidirectional streams this side may open',
  local_peer_unidi_stream_count: 'how many more unidirectional streams this side may open',
};

/** The keys whose machinery exists: they are validated and take effect. */
const EFFECTIVE: Record<string, string> = {
  alpn: 'ALPN protocols offered (client) or accepted in preference order (server)',
  conn_callback: 'callback module of server acceptors',
  custom_verify: 'the application decides on the peer certificate (peer_cert_received)',
  handle: 'start a connection opened with openConnection',
  nst: 'resumption ticket from nst_received',
  quic_event_mask: 'connection event mask (1: nst_received, 2: no streams_available)',
  local_address: 'local address to bind',
  cert: 'certificate chain, PEM or DER',
  certfile: 'certificate chain file',
  key: 'private key, PEM or DER',
  keyfile: 'private key file',
  password: 'password of an encrypted private key',
  verify: 'verify the peer certificate (verify_peer) or not (none)',
  cacertfile: 'trusted CA certificates file',
  sslkeylogfile: 'NSS key log file',
  handshake_idle_timeout_ms: 'handshake idle timeout',
  idle_timeout_ms: 'idle timeout (max_idle_timeout)',
  tls_client_max_send_buffer: 'client TLS send buffer limit',
  tls_server_max_send_buffer: 'server TLS send buffer limit',
  stream_recv_window_default: 'per-stream receive window',
  stream_recv_buffer_default: 'initial per-stream receive buffer (reported; no wire effect)',
  conn_flow_control_window: 'connection receive window (initial_max_data)',
  initial_window_packets: 'initial congestion window in packets',
  send_idle_timeout_ms: 'restart from the initial window after sending was idle',
  initial_rtt_ms: 'RTT assumed before the first sample',
  max_ack_delay_ms: 'max_ack_delay',
  disconnect_timeout_ms: 'give up when data stays unacknowledged this long',
  keep_alive_interval_ms: 'PING after this long without activity',
  congestion_control_algorithm: 'congestion controller (0: CUBIC)',
  peer_bidi_stream_count: 'bidirectional streams the peer may open',
  peer_unidi_stream_count: 'unidirectional streams the peer may open',
  max_operations_per_drain: 'events a connection process handles per turn',
  send_buffering_enabled: 'send completion on buffering (1) or on acknowledgement (0)',
  pacing_enabled: 'pacing',
  datagram_receive_enabled: 'accept DATAGRAM frames',
  server_resumption_level: 'server session resumption (1) and 0-RTT (2)',
};

/** Every quicer conn_opts key (QUICER.md §1) with how purequic treats it, in the order of QUICER.md. */
export const QUICER_CONN_OPTS: readonly ConnOptInfo[] = [
  'alpn', 'conn_callback', 'custom_verify', 'handle', 'nst', 'quic_event_mask', 'disable_1rtt_encryption', 'local_address',
  'local_bidi_stream_count', 'local_peer_unidi_stream_count', 'quic_registration',
  'cert', 'certfile', 'key', 'keyfile', 'password', 'verify', 'cacertfile', 'sslkeylogfile', 'certkeyasn1',
  'max_bytes_per_key', 'handshake_idle_timeout_ms', 'idle_timeout_ms', 'tls_client_max_send_buffer', 'tls_server_max_send_buffer',
  'stream_recv_window_default', 'stream_recv_buffer_default', 'conn_flow_control_window', 'max_stateless_operations',
  'initial_window_packets', 'send_idle_timeout_ms', 'initial_rtt_ms', 'max_ack_delay_ms', 'disconnect_timeout_ms',
  'keep_alive_interval_ms', 'congestion_control_algorithm', 'peer_bidi_stream_count', 'peer_unidi_stream_count',
  'retry_memory_limit', 'load_balancing_mode', 'max_operations_per_drain', 'send_buffering_enabled', 'pacing_enabled',
  'migration_enabled', 'datagram_receive_enabled', 'server_resumption_level', 'minimum_mtu', 'maximum_mtu',
  'mtu_discovery_search_complete_timeout_us', 'mtu_discovery_missing_probe_count', 'max_binding_stateless_operations',
  'stateless_operation_expiration_ms', 'max_worker_queue_delay_us',
].map((key): ConnOptInfo => {
  if (key in READ_ONLY) return { key, state: 'read-only', about: READ_ONLY[key]! };
  if (key in FEATURE) return { key, state: 'not-available-yet', about: FEATURE[key]! };
  return { key, state: 'effective', about: EFFECTIVE[key]! };
});

const STATE = new Map(QUICER_CONN_OPTS.map((i) => [i.key, i.state]));

/** Names of every quicer key (the rest of a conn_opts map is application data). */
export const QUICER_CONN_OPT_KEYS: readonly string[] = QUICER_CONN_OPTS.map((i) => i.key);

/**
 * The settings `getopt(conn, 'settings')` reports, in quicer's order (QUICER.md §0.6), with
 * `server_resumption_level` too (QUICER.md §5.20: every setting applied is reported). Settings
 * whose feature is not available yet are left out rather than reported with a value the stack
 * would not honour.
 */
export const SETTINGS_REPORT_KEYS = [
  'handshake_idle_timeout_ms',
  'idle_timeout_ms',
  'tls_client_max_send_buffer',
  'tls_server_max_send_buffer',
  'stream_recv_window_default',
  'stream_recv_buffer_default',
  'conn_flow_control_window',
  'initial_window_packets',
  'send_idle_timeout_ms',
  'initial_rtt_ms',
  'max_ack_delay_ms',
  'disconnect_timeout_ms',
  'keep_alive_interval_ms',
  'congestion_control_algorithm',
  'peer_bidi_stream_count',
  'peer_unidi_stream_count',
  'max_operations_per_drain',
  'send_buffering_enabled',
  'pacing_enabled',
  'datagram_receive_enabled',
  'server_resumption_level',
] as const;

/** A key of the settings report. */
export type SettingKey = (typeof SETTINGS_REPORT_KEYS)[number];

/** The settings reported by `getopt(conn, 'settings')` (keys of SETTINGS_REPORT_KEYS), with their effective values. */
export type SettingsReport = Record<string, number | boolean>;

/** Validated connection options. */
export interface ConnOptions {
  /** `alpn`: the protocols, in preference order. */
  alpn: string[];
  /** Client certificate / server certificate (DER chain, leaf first) and its PKCS#8 key. */
  certificateChain: Uint8Array[] | undefined;
  /** The private key of `certificateChain` (PKCS#8 DER). */
  privateKey: Uint8Array | undefined;
  /** `verify: verify_peer` (client: check the server; server: require and check a client certificate). */
  verifyPeer: boolean;
  /** Trust anchors from `cacertfile` (undefined when not given). */
  trusted: Uint8Array[] | undefined;
  /** `custom_verify`: the application decides on the peer certificate. */
  customVerify: boolean;
  /** `sslkeylogfile`: where TLS secrets are appended. */
  sslkeylogfile: string | undefined;
  /** `quic_event_mask`: 1 deliver nst_received, 2 no streams_available. */
  quicEventMask: number;
  /** `local_address`: the address a client binds (port 0: any). */
  localAddress: { address: string | undefined; port: number } | undefined;
  /** A resumption ticket (`nst`) from an earlier `nst_received`. */
  nst: Uint8Array | undefined;
  /** `handle`: a connection opened earlier with `openConnection` (checked by connect). */
  handle: unknown;
  /** Engine settings for the transport. */
  transport: Partial<TransportSettings>;
  /** `send_buffering_enabled`: sends complete once copied (else once acknowledged). */
  sendBuffering: boolean;
  /** `max_operations_per_drain`: messages the owning process handles per turn. */
  maxOperationsPerDrain: number;
  /** `tls_client_max_send_buffer`. */
  tlsClientMaxSendBuffer: number;
  /** `tls_server_max_send_buffer`. */
  tlsServerMaxSendBuffer: number;
  /** `stream_recv_buffer_default` (reported only). */
  streamRecvBufferDefault: number;
  /** `datagram_receive_enabled`: DATAGRAM frames are accepted. */
  datagramReceiveEnabled: boolean;
  /** `server_resumption_level`: 1 session tickets, 2 also 0-RTT. */
  serverResumptionLevel: 0 | 1 | 2;
  /** Every setting's effective value (MsQuic defaults where not given), as getopt reports them. */
  settings: SettingsReport;
  /** Keys that are not quicer's: passed to the callback's init. */
  app: Record<string, unknown>;
}

/** How `validateConnOpts` reads a map. */
export interface ValidateOptions {
  /** Where the map came from, for messages (`conn_opts`, `listen_opts`, …). */
  where?: string;
  /** Client connections get quicer's peer stream count defaults. */
  side: 'client' | 'server';
  /** A listener must have certificates; a client may. */
  requireCertificate?: boolean;
}

/** A plain map: quicer takes maps (or proplists); `undefined` values count as absent. */
export function asOptionMap(where: string, opts: unknown): Record<string, unknown> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Uint8Array) {
    throw new TypeError(`${where}: ${show(opts)} is not an options map; expected a plain object`);
  }
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts as Record<string, unknown>)) if (v !== undefined) m[k] = v;
  return m;
}

/**
 * Options set on a connection handle from `openConnection` before it started (quicer's
 * pre-start setopt): applied when the handle is connected, over the connect options (MsQuic
 * keeps settings set on the connection over those of the configuration).
 */
const handlePresets = new WeakMap<object, Record<string, unknown>>();

/** Records `key: value` to apply when the not-yet-started `handle` connects. */
export function presetHandleOption(handle: object, key: string, value: unknown): void {
  let m = handlePresets.get(handle);
  if (m === undefined) handlePresets.set(handle, (m = {}));
  m[key] = value;
}

/** What was preset on a handle (empty when nothing). */
export function handlePresetOptions(handle: object): Readonly<Record<string, unknown>> {
  return handlePresets.get(handle) ?? {};
}

/**
 * Validates a `conn_opts` (or listener options) map. Throws TypeError / RangeError for any
 * bad value; returns the engine settings, the TLS material (files read) and the rest as app data.
 */
export function validateConnOpts(opts: unknown, o: ValidateOptions): ConnOptions {
  const where = o.where ?? 'conn_opts';
  let m = asOptionMap(where, opts);
  if (m.handle !== null && typeof m.handle === 'object') {
    const preset = handlePresets.get(m.handle);
    if (preset !== undefined) m = { ...m, ...preset };
  }
  const app: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    const state = STATE.get(k);
    if (state === undefined) app[k] = v;
    else if (state === 'read-only') {
      throw new TypeError(`${where}.${k}: ${show(v)} was given, but the key is read-only (${READ_ONLY[k]}); leave it out and read it with getopt(conn, '${k}')`);
    } else if (state === 'not-available-yet') {
      throw new TypeError(`${where}.${k}: ${show(v)} was given, but ${FEATURE[k]} is not available yet in purequic; leave the key out`);
    }
  }
  if (m.alpn === undefined) throw new TypeError(`${where}.alpn: missing; expected a non-empty array of protocol names (strings of 1..255 bytes)`);
  const alpn = validateAlpn(where, m.alpn);
  const tls = validateCredentials(where, m, o);
  const customVerify = m.custom_verify === undefined ? false : flag(where, 'custom_verify', m.custom_verify, false);
  let sslkeylogfile: string | undefined;
  if (m.sslkeylogfile !== undefined) {
    sslkeylogfile = str(where, 'sslkeylogfile', m.sslkeylogfile, 'a file path in an existing directory');
    const dir = dirname(sslkeylogfile);
    if (!existsSync(dir) || (existsSync(sslkeylogfile) && statSync(sslkeylogfile).isDirectory())) {
      throw optionError(where, 'sslkeylogfile', m.sslkeylogfile, 'a file path in an existing directory');
    }
  }
  const quicEventMask = m.quic_event_mask === undefined ? 0 : uint(where, 'quic_event_mask', m.quic_event_mask, 0, U32, 'an integer in 0..4294967295 (bit 1: nst_received, bit 2: no streams_available)');
  const localAddress = m.local_address === undefined ? undefined : parseLocalAddress(where, 'local_address', m.local_address);
  let nst: Uint8Array | undefined;
  if (m.nst !== undefined) {
    if (!(m.nst instanceof Uint8Array) || m.nst.length === 0) throw optionError(where, 'nst', m.nst, 'a non-empty ticket (Uint8Array) from nst_received');
    nst = m.nst;
  }
  if (m.handle !== undefined && (m.handle === null || typeof m.handle !== 'object' || (m.handle as { kind?: unknown }).kind !== 'connection')) {
    throw optionError(where, 'handle', m.handle, 'a connection handle from openConnection() that was not started yet');
  }
  if (m.conn_callback !== undefined && (m.conn_callback === null || typeof m.conn_callback !== 'object' || typeof (m.conn_callback as { init?: unknown }).init !== 'function')) {
    throw optionError(where, 'conn_callback', m.conn_callback, 'a callback module (an object with at least an init function)');
  }
  const s = validateSettings(where, m, o.side);
  return {
    alpn,
    ...tls,
    customVerify,
    sslkeylogfile,
    quicEventMask,
    localAddress,
    nst,
    handle: m.handle,
    transport: transportSettings(s, o.side),
    sendBuffering: s.send_buffering_enabled as boolean,
    maxOperationsPerDrain: s.max_operations_per_drain as number,
    tlsClientMaxSendBuffer: s.tls_client_max_send_buffer as number,
    tlsServerMaxSendBuffer: s.tls_server_max_send_buffer as number,
    streamRecvBufferDefault: s.stream_recv_buffer_default as number,
    datagramReceiveEnabled: s.datagram_receive_enabled as boolean,
    serverResumptionLevel: s.server_resumption_level as 0 | 1 | 2,
    settings: s,
    app,
  };
}

/** The TLS keys (QUICER.md §1b): credentials from cert/certfile + key/keyfile (+ password), verify, cacertfile. */
function validateCredentials(
  where: string,
  m: Record<string, unknown>,
  o: ValidateOptions,
): Pick<ConnOptions, 'certificateChain' | 'privateKey' | 'verifyPeer' | 'trusted'> {
  const password = m.password === undefined ? undefined : str(where, 'password', m.password, 'a string of 1..255 characters');
  if (password !== undefined && password.length > 255) throw optionError(where, 'password', password, 'a string of 1..255 characters', true);
  if (m.cert !== undefined && m.certfile !== undefined) throw new TypeError(`${where}.cert: given together with certfile; give one of them`);
  if (m.key !== undefined && m.keyfile !== undefined) throw new TypeError(`${where}.key: given together with keyfile; give one of them`);
  const certSrc = m.cert !== undefined ? 'cert' : m.certfile !== undefined ? 'certfile' : undefined;
  const keySrc = m.key !== undefined ? 'key' : m.keyfile !== undefined ? 'keyfile' : undefined;
  if ((certSrc === undefined) !== (keySrc === undefined)) {
    const given = certSrc ?? keySrc!;
    throw new TypeError(`${where}.${given}: given without ${certSrc === undefined ? 'cert or certfile' : 'key or keyfile'}; a certificate and its private key go together`);
  }
  if (password !== undefined && keySrc === undefined) {
    throw new TypeError(`${where}.password: given without key or keyfile; it decrypts an encrypted private key`);
  }
  let certificateChain: Uint8Array[] | undefined;
  let privateKey: Uint8Array | undefined;
  if (certSrc !== undefined && keySrc !== undefined) {
    const certValue = m[certSrc];
    const keyValue = m[keySrc];
    try {
      certificateChain =
        certSrc === 'cert'
          ? loadCertificateChain(pemOrDer(where, 'cert', certValue))
          : readCertificateChainFile(str(where, 'certfile', certValue, 'a file path'));
    } catch (e) {
      if (e instanceof TypeError && e.message.startsWith(`${where}.`)) throw e;
      throw new TypeError(`${where}.${certSrc}: ${show(certValue)} cannot be used: ${(e as Error).message}`);
    }
    try {
      privateKey =
        keySrc === 'key'
          ? loadPrivateKey(pemOrDer(where, 'key', keyValue), password)
          : readPrivateKeyFile(str(where, 'keyfile', keyValue, 'a file path'), password);
    } catch (e) {
      if (e instanceof TypeError && e.message.startsWith(`${where}.`)) throw e;
      throw new TypeError(`${where}.${keySrc}: ${show(keyValue)} cannot be used: ${(e as Error).message}`);
    }
    if (!certificateMatchesKey(certificateChain[0]!, privateKey)) {
      throw new TypeError(`${where}.${keySrc}: the private key does not match the certificate in ${certSrc}`);
    }
  }
  if ((o.requireCertificate || o.side === 'server') && certificateChain === undefined) {
    throw new TypeError(`${where}.certfile: missing; a listener needs certfile and keyfile (or cert and key)`);
  }
  let verifyPeer = false;
  if (m.verify !== undefined) {
    const v = m.verify;
    if (v === 'none' || v === 'verify_none') verifyPeer = false;
    else if (v === 'peer' || v === 'verify_peer') verifyPeer = true;
    else throw optionError(where, 'verify', v, "'none', 'verify_none', 'peer' or 'verify_peer'");
  }
  let trusted: Uint8Array[] | undefined;
  if (m.cacertfile !== undefined) {
    const path = str(where, 'cacertfile', m.cacertfile, 'a file path');
    try {
      trusted = readTrustedCertificatesFile(path);
    } catch (e) {
      throw new TypeError(`${where}.cacertfile: ${show(path)} cannot be used: ${(e as Error).message}`);
    }
  }
  return { certificateChain, privateKey, verifyPeer, trusted };
}

/** The settings keys (QUICER.md §1c) with MsQuic's defaults, quicer's client defaults and purequic's limits. */
function validateSettings(where: string, m: Record<string, unknown>, side: 'client' | 'server'): SettingsReport {
  const s: SettingsReport = {};
  for (const k of SETTINGS_REPORT_KEYS) s[k] = MSQUIC_DEFAULTS[k];
  if (side === 'client') Object.assign(s, QUICER_CLIENT_DEFAULTS);
  const u = (key: SettingKey, min: number, max: number | bigint, what?: string): void => {
    if (m[key] !== undefined) s[key] = uint(where, key, m[key], min, max, what);
  };
  u('handshake_idle_timeout_ms', 0, MAX_VARINT, 'an integer in 0..2^62-1 (0: no handshake idle timeout)');
  u('idle_timeout_ms', 0, MAX_VARINT, 'an integer in 0..2^62-1 (0: no idle timeout)');
  u('tls_client_max_send_buffer', 0, U32, 'an integer in 0..4294967295 (bytes; 0: no limit)');
  u('tls_server_max_send_buffer', 0, U32, 'an integer in 0..4294967295 (bytes; 0: no limit)');
  if (m.stream_recv_window_default !== undefined) {
    const what = 'a power of two in 1..2^31 (bytes)';
    const w = uint(where, 'stream_recv_window_default', m.stream_recv_window_default, 1, 2 ** 31, what);
    if (2 ** Math.round(Math.log2(w)) !== w) throw optionError(where, 'stream_recv_window_default', m.stream_recv_window_default, what, true);
    s.stream_recv_window_default = w;
  }
  u('stream_recv_buffer_default', 4096, U32, 'an integer in 4096..4294967295 (bytes)');
  u('conn_flow_control_window', 0, U32, 'an integer in 0..4294967295 (bytes)');
  u('initial_window_packets', 2, 1_000_000, 'an integer in 2..1000000 (packets; purequic keeps at least a 2-packet window)');
  u('send_idle_timeout_ms', 0, U32, 'an integer in 0..4294967295 (0: never restart from the initial window)');
  u('initial_rtt_ms', 1, U32, 'an integer in 1..4294967295 (must be above 0)');
  u('max_ack_delay_ms', 0, 16383, 'an integer in 0..16383 (2^14 - 1)');
  u('disconnect_timeout_ms', 1, 600_000, 'an integer in 1..600000');
  u('keep_alive_interval_ms', 0, U32, 'an integer in 0..4294967295 (0: no keep-alive)');
  if (m.congestion_control_algorithm !== undefined) {
    const c = uint(where, 'congestion_control_algorithm', m.congestion_control_algorithm, 0, 1, '0 (CUBIC); 1 (BBR) is not available yet');
    if (c === 1) throw new TypeError(`${where}.congestion_control_algorithm: 1 was given, but BBR is not available yet in purequic; use 0 (CUBIC)`);
    s.congestion_control_algorithm = c;
  }
  u('peer_bidi_stream_count', 0, 65535);
  u('peer_unidi_stream_count', 0, 65535);
  u('max_operations_per_drain', 1, 255, 'an integer in 1..255');
  for (const k of ['send_buffering_enabled', 'pacing_enabled', 'datagram_receive_enabled'] as const) {
    if (m[k] !== undefined) s[k] = flag(where, k, m[k], true);
  }
  u('server_resumption_level', 0, 2, '0 (none), 1 (resume) or 2 (resume and 0-RTT)');
  return s;
}

/** Engine settings for validated settings. */
function transportSettings(s: SettingsReport, side: 'client' | 'server'): Partial<TransportSettings> {
  const window = s.stream_recv_window_default as number;
  return {
    handshakeIdleTimeout: s.handshake_idle_timeout_ms as number,
    maxIdleTimeout: s.idle_timeout_ms as number,
    initialMaxStreamDataBidiLocal: window,
    initialMaxStreamDataBidiRemote: window,
    initialMaxStreamDataUni: window,
    initialMaxData: s.conn_flow_control_window as number,
    initialWindowPackets: s.initial_window_packets as number,
    sendIdleTimeout: s.send_idle_timeout_ms as number,
    initialRtt: s.initial_rtt_ms as number,
    maxAckDelay: s.max_ack_delay_ms as number,
    disconnectTimeout: s.disconnect_timeout_ms as number,
    keepAliveInterval: s.keep_alive_interval_ms as number,
    congestionControl: 'cubic',
    initialMaxStreamsBidi: s.peer_bidi_stream_count as number,
    initialMaxStreamsUni: s.peer_unidi_stream_count as number,
    pacing: s.pacing_enabled as boolean,
    maxDatagramFrameSize: s.datagram_receive_enabled ? 65535 : 0,
    issueSessionTicket: (s.server_resumption_level as number) >= 1,
    maxTlsSendBuffer: (side === 'client' ? s.tls_client_max_send_buffer : s.tls_server_max_send_buffer) as number,
  };
}

// ---------------------------------------------------------------------------------------------
// stream_opts (QUICER.md §3e)

/** Receive mode of a stream: `true`, `false` (passive), `'once'`, or a message count. */
export type ActiveMode = boolean | 'once' | number;

/** Validated `stream_opts`. */
export interface StreamOptions {
  /** `active`: the receive mode. */
  active: ActiveMode;
  /** QUIC_STREAM_OPEN_FLAG_*: 1 unidirectional, 2 0-RTT. */
  openFlag: number;
  /** QUIC_STREAM_START_FLAG_*: 1 IMMEDIATE, 2 FAIL_BLOCKED, 4 SHUTDOWN_ON_FAIL, 8 INDICATE_PEER_ACCEPT. */
  startFlag: number;
  /** Bit 0x1: deliver start_completed. */
  eventMask: number;
  /** `disable_fpbuffer`: every data message is its own `handleStreamData` call. */
  disableFpbuffer: boolean;
  /** `priority` (0–65535), when given. */
  priority: number | undefined;
  /** Keys that are not quicer's stream options (application data). */
  app: Record<string, unknown>;
}

const STREAM_KEYS = new Set(['active', 'open_flag', 'start_flag', 'event_mask', 'quic_event_mask', 'disable_fpbuffer', 'priority']);
const STREAM_READONLY = new Set(['stream_id', 'ideal_send_buffer_size', '0rtt_length']);

/** Validates an `active` value (true, false, 'once', or an integer in −32768..32767). */
export function validateActive(where: string, v: unknown): ActiveMode {
  if (v === true || v === false || v === 'once') return v;
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (v < -32768 || v > 32767) throw optionError(where, 'active', v, 'true, false, once, or an integer in -32768..32767', true);
    return v;
  }
  throw optionError(where, 'active', v, "true, false, 'once', or an integer in -32768..32767");
}

/** Validates `stream_opts` (quicer's start_stream defaults: active true, start_flag SHUTDOWN_ON_FAIL). */
export function validateStreamOpts(opts: unknown, where = 'stream_opts'): StreamOptions {
  const m = asOptionMap(where, opts);
  const app: Record<string, unknown> = {};
  for (const k of Object.keys(m)) {
    if (STREAM_READONLY.has(k)) {
      throw new TypeError(`${where}.${k}: ${show(m[k])} was given, but the key is read-only; leave it out and read it with getopt(stream, '${k}')`);
    }
    if (!STREAM_KEYS.has(k)) app[k] = m[k];
  }
  const active = m.active === undefined ? true : validateActive(where, m.active);
  const openFlag = m.open_flag === undefined ? 0 : uint(where, 'open_flag', m.open_flag, 0, 3, '0 (none), 1 (unidirectional), 2 (0-RTT) or 3');
  const startFlag = m.start_flag === undefined ? 4 : uint(where, 'start_flag', m.start_flag, 0, 31, 'a combination of 1 IMMEDIATE, 2 FAIL_BLOCKED, 4 SHUTDOWN_ON_FAIL, 8 INDICATE_PEER_ACCEPT, 16 PRIORITY_WORK');
  const em = m.quic_event_mask ?? m.event_mask;
  if (m.quic_event_mask !== undefined && m.event_mask !== undefined && m.quic_event_mask !== m.event_mask) {
    throw new TypeError(`${where}: event_mask and quic_event_mask disagree (${show(m.event_mask)} vs ${show(m.quic_event_mask)}); they mean the same`);
  }
  const eventMask = em === undefined ? 0 : uint(where, m.quic_event_mask !== undefined ? 'quic_event_mask' : 'event_mask', em, 0, U32, 'an integer in 0..4294967295 (bit 1: start_completed)');
  const disableFpbuffer = m.disable_fpbuffer === undefined ? false : flag(where, 'disable_fpbuffer', m.disable_fpbuffer, false);
  const priority = m.priority === undefined ? undefined : uint(where, 'priority', m.priority, 0, 65535, 'an integer in 0..65535 (higher is sent first)');
  return { active, openFlag, startFlag, eventMask, disableFpbuffer, priority, app };
}
