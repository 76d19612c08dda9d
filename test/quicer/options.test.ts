/**
 * conn_opts / stream_opts validation (QUICER.md §1, §3e, §4): every key of quicer's list is
 * known; a wrong type, a value out of range, a read-only key or a key whose feature is not
 * available yet is a TypeError / RangeError naming the key, the value and what is allowed,
 * thrown before any packet leaves; defaults are MsQuic's with quicer's client defaults.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { createSocket } from 'node:dgram';
import {
  QUICER_CONN_OPTS,
  QUICER_CONN_OPT_KEYS,
  SETTINGS_REPORT_KEYS,
  validateConnOpts,
  validateStreamOpts,
} from '../../src/quicer/options.js';
import * as quicer from '../../src/quicer/quicer.js';
import { QuicConnection } from '../../src/quicer/connection.js';
import { Inbox } from '../../src/quicer/process.js';
import { BlackHole, delay, removePki, testPki } from './options-harness.js';

afterAll(removePki);

const client = (m: Record<string, unknown>) => validateConnOpts({ alpn: ['x'], ...m }, { side: 'client' });
const server = async (m: Record<string, unknown>) => {
  const f = await testPki();
  return validateConnOpts({ alpn: ['x'], certfile: f.certfile, keyfile: f.keyfile, ...m }, { side: 'server', where: 'listen_opts' });
};

/** The error `f` throws (fails the test when it does not throw). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, nothing was thrown');
}

/**
 * Bad values of every key that takes effect: [key, wrong type, out of range (or none), a good value].
 * The good value is accepted; the others are refused with TypeError / RangeError.
 */
const SETTINGS: Array<[string, unknown, unknown, unknown]> = [
  ['handshake_idle_timeout_ms', '10', -1, 5000],
  ['idle_timeout_ms', 1.5, 2n ** 62n, 2n ** 62n - 1n],
  ['tls_client_max_send_buffer', true, 2 ** 32, 8192],
  ['tls_server_max_send_buffer', null, -5, 16384],
  ['stream_recv_window_default', '65536', 65535, 32768],
  ['stream_recv_buffer_default', {}, 1024, 8192],
  ['conn_flow_control_window', [1], 2 ** 32, 1 << 20],
  ['initial_window_packets', 'ten', 1, 20],
  ['send_idle_timeout_ms', false, -1, 0],
  ['initial_rtt_ms', 1e-3, 0, 50],
  ['max_ack_delay_ms', '25', 16384, 0],
  ['disconnect_timeout_ms', NaN, 0, 600_000],
  ['keep_alive_interval_ms', Infinity, -1, 100],
  ['congestion_control_algorithm', 'cubic', 2, 0],
  ['peer_bidi_stream_count', 1.2, 65536, 65535],
  ['peer_unidi_stream_count', '1', -1, 0],
  ['max_operations_per_drain', 2.5, 0, 255],
  ['send_buffering_enabled', 'yes', 2, false],
  ['pacing_enabled', 'no', 2, 0],
  ['datagram_receive_enabled', null, 7, true],
  ['server_resumption_level', '2', 3, 2],
  ['quic_event_mask', 'nst', 2 ** 32, 3],
  ['local_address', { port: 1 }, 65536, '127.0.0.1:0'],
  ['custom_verify', 'true', undefined, true],
  ['verify', 'verify_maybe', undefined, 'verify_peer'],
  ['sslkeylogfile', 42, undefined, undefined],
  ['nst', 'ticket', undefined, undefined],
  ['handle', 'conn-1', undefined, undefined],
  ['conn_callback', 'my_module', undefined, { init: () => ['ok', 0] }],
  ['alpn', 'h3', undefined, ['h3', 'hq-interop']],
];

/** Keys whose validation is covered by dedicated cases below (TLS material). */
const TLS_FILE_KEYS = ['cert', 'certfile', 'key', 'keyfile', 'password', 'cacertfile'];

describe('conn_opts: every quicer key is known and classified', () => {
  it('lists every key of QUICER.md §1 once', () => {
    const expected = [
      'alpn', 'conn_callback', 'custom_verify', 'handle', 'nst', 'quic_event_mask', 'disable_1rtt_encryption', 'local_address',
      'local_bidi_stream_count', 'local_peer_unidi_stream_count', 'quic_registration', 'cert', 'certfile', 'key', 'keyfile',
      'password', 'verify', 'cacertfile', 'sslkeylogfile', 'certkeyasn1', 'max_bytes_per_key', 'handshake_idle_timeout_ms',
      'idle_timeout_ms', 'tls_client_max_send_buffer', 'tls_server_max_send_buffer', 'stream_recv_window_default',
      'stream_recv_buffer_default', 'conn_flow_control_window', 'max_stateless_operations', 'initial_window_packets',
      'send_idle_timeout_ms', 'initial_rtt_ms', 'max_ack_delay_ms', 'disconnect_timeout_ms', 'keep_alive_interval_ms',
      'congestion_control_algorithm', 'peer_bidi_stream_count', 'peer_unidi_stream_count', 'retry_memory_limit',
      'load_balancing_mode', 'max_operations_per_drain', 'send_buffering_enabled', 'pacing_enabled', 'migration_enabled',
      'datagram_receive_enabled', 'server_resumption_level', 'minimum_mtu', 'maximum_mtu',
      'mtu_discovery_search_complete_timeout_us', 'mtu_discovery_missing_probe_count', 'max_binding_stateless_operations',
      'stateless_operation_expiration_ms', 'max_worker_queue_delay_us',
    ];
    expect([...QUICER_CONN_OPT_KEYS].sort()).toEqual([...expected].sort());
    expect(new Set(QUICER_CONN_OPT_KEYS).size).toBe(QUICER_CONN_OPT_KEYS.length);
  });

  it('the keys of the issue take effect, the two local counters are read-only, the rest are not available yet', () => {
    const effective = [
      'alpn', 'conn_callback', 'handle', 'verify', 'cacertfile', 'cert', 'certfile', 'key', 'keyfile', 'password', 'custom_verify',
      'sslkeylogfile', 'quic_event_mask', 'local_address', 'handshake_idle_timeout_ms', 'idle_timeout_ms', 'keep_alive_interval_ms',
      'disconnect_timeout_ms', 'initial_rtt_ms', 'max_ack_delay_ms', 'stream_recv_window_default', 'stream_recv_buffer_default',
      'conn_flow_control_window', 'peer_bidi_stream_count', 'peer_unidi_stream_count', 'initial_window_packets',
      'send_idle_timeout_ms', 'pacing_enabled', 'send_buffering_enabled', 'congestion_control_algorithm',
      'tls_client_max_send_buffer', 'tls_server_max_send_buffer', 'max_operations_per_drain',
      // Kept because the resumed / nstReceived / dgramRecv / dgramStateChanged callbacks need them.
      'nst', 'datagram_receive_enabled', 'server_resumption_level',
    ];
    const state = (s: string) => QUICER_CONN_OPTS.filter((i) => i.state === s).map((i) => i.key).sort();
    expect(state('effective')).toEqual([...effective].sort());
    expect(state('read-only')).toEqual(['local_bidi_stream_count', 'local_peer_unidi_stream_count']);
    expect(state('not-available-yet')).toEqual(QUICER_CONN_OPT_KEYS.filter((k) => !effective.includes(k) && !k.startsWith('local_b') && !k.startsWith('local_p')).sort());
  });

  it('the validation table below covers every key that takes effect', () => {
    const covered = new Set([...SETTINGS.map((r) => r[0]), ...TLS_FILE_KEYS]);
    const missing = QUICER_CONN_OPTS.filter((i) => i.state === 'effective' && !covered.has(i.key)).map((i) => i.key);
    expect(missing).toEqual([]);
  });
});

describe('conn_opts: bad values are refused with the key, the value and what is allowed', () => {
  it.each(SETTINGS)('%s', (key, wrongType, outOfRange, good) => {
    const e1 = thrown(() => client({ [key]: wrongType }));
    expect(e1).toBeInstanceOf(TypeError);
    expect(e1.message).toMatch(new RegExp(`^conn_opts\\.${key}: `));
    expect(e1.message).toMatch(/expected .+/);
    if (outOfRange !== undefined) {
      const e2 = thrown(() => client({ [key]: outOfRange }));
      expect(e2.constructor === RangeError || e2.constructor === TypeError).toBe(true);
      expect(e2.message).toContain(`conn_opts.${key}: ${typeof outOfRange === 'bigint' ? `${outOfRange}n` : String(outOfRange)}`);
      expect(e2.message).toMatch(/expected .+/);
    }
    if (good !== undefined) expect(() => client({ [key]: good })).not.toThrow();
  });

  it('numbers out of range are RangeErrors; wrong types TypeErrors', () => {
    expect(thrown(() => client({ idle_timeout_ms: -1 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => client({ idle_timeout_ms: '1' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => client({ stream_recv_window_default: 3 << 20 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => client({ peer_bidi_stream_count: 65536 })).message).toBe(
      'conn_opts.peer_bidi_stream_count: 65536 is not allowed; expected an integer in 0..65535',
    );
  });

  it('64-bit timeouts are compared exactly: 2^62 - 1 is the largest, as a bigint; 2^62 is refused even as a number', () => {
    expect(client({ idle_timeout_ms: 2n ** 62n - 1n }).settings.idle_timeout_ms).toBe(Number.MAX_SAFE_INTEGER);
    expect(thrown(() => client({ handshake_idle_timeout_ms: 2 ** 62 }))).toBeInstanceOf(RangeError);
    expect(client({ idle_timeout_ms: 1234n }).transport.maxIdleTimeout).toBe(1234);
  });

  it('stream_recv_window_default must be a power of two (MsQuic: invalid_parameter otherwise)', () => {
    for (const w of [1, 2, 4096, 65536, 2 ** 31]) expect(client({ stream_recv_window_default: w }).settings.stream_recv_window_default).toBe(w);
    for (const w of [0, 3, 65535, 100_000, 2 ** 32]) expect(() => client({ stream_recv_window_default: w })).toThrow(RangeError);
  });

  it('congestion_control_algorithm 1 (BBR) says it is not available yet', () => {
    const e = thrown(() => client({ congestion_control_algorithm: 1 }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('conn_opts.congestion_control_algorithm: 1 was given, but BBR is not available yet in purequic; use 0 (CUBIC)');
    expect(client({ congestion_control_algorithm: 0 }).transport.congestionControl).toBe('cubic');
  });

  it('alpn: required, non-empty, entries of 1..255 bytes, at most 65535 bytes encoded', () => {
    expect(thrown(() => validateConnOpts({}, { side: 'client' })).message).toMatch(/^conn_opts\.alpn: missing; expected/);
    expect(thrown(() => client({ alpn: [] }))).toBeInstanceOf(TypeError);
    expect(thrown(() => client({ alpn: [''] }))).toBeInstanceOf(RangeError);
    expect(thrown(() => client({ alpn: ['x'.repeat(256)] }))).toBeInstanceOf(RangeError);
    expect(thrown(() => client({ alpn: Array.from({ length: 300 }, () => 'y'.repeat(255)) }))).toBeInstanceOf(RangeError);
    expect(thrown(() => client({ alpn: ['h3', 3] }))).toBeInstanceOf(TypeError);
    expect(client({ alpn: ['x'.repeat(255)] }).alpn).toEqual(['x'.repeat(255)]);
  });

  it('local_address: IP literals and ports; host names are refused', () => {
    expect(client({ local_address: '127.0.0.1' }).localAddress).toEqual({ address: '127.0.0.1', port: 0 });
    expect(client({ local_address: '127.0.0.1:4567' }).localAddress).toEqual({ address: '127.0.0.1', port: 4567 });
    expect(client({ local_address: '[::1]:4567' }).localAddress).toEqual({ address: '::1', port: 4567 });
    expect(client({ local_address: '::1' }).localAddress).toEqual({ address: '::1', port: 0 });
    expect(client({ local_address: 0 }).localAddress).toEqual({ address: undefined, port: 0 });
    const e = thrown(() => client({ local_address: 'localhost:4567' }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toContain('conn_opts.local_address: "localhost:4567" is not allowed; expected an IP literal');
    expect(e.message).toContain('no host names');
  });

  it('read-only keys are refused, naming the value and pointing at getopt', () => {
    for (const key of ['local_bidi_stream_count', 'local_peer_unidi_stream_count']) {
      const e = thrown(() => client({ [key]: 5 }));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(new RegExp(`^conn_opts\\.${key}: 5 was given, but the key is read-only \\(.+\\); leave it out and read it with getopt\\(conn, '${key}'\\)$`));
    }
  });

  it.each(QUICER_CONN_OPTS.filter((i) => i.state === 'not-available-yet').map((i) => i.key))(
    '%s is refused: its feature is not available yet',
    (key) => {
      for (const side of ['client', 'server'] as const) {
        const e = thrown(() => validateConnOpts({ alpn: ['x'], [key]: 1 }, { side, where: side === 'server' ? 'listen_opts' : 'conn_opts' }));
        expect(e).toBeInstanceOf(TypeError);
        expect(e.message).toMatch(new RegExp(`^(conn|listen)_opts\\.${key}: 1 was given, but .+ is not available yet in purequic; leave the key out$`));
      }
    },
  );

  it('a map is required; undefined values count as absent; other keys are application data for init', () => {
    expect(thrown(() => validateConnOpts('alpn', { side: 'client' })).message).toBe('conn_opts: "alpn" is not an options map; expected a plain object');
    expect(thrown(() => validateConnOpts([['alpn', ['x']]], { side: 'client' }))).toBeInstanceOf(TypeError);
    const o = client({ idle_timeout_ms: undefined, stream_acceptors: 4, my_key: { a: 1 } });
    expect(o.settings.idle_timeout_ms).toBe(30_000);
    expect(o.app).toEqual({ stream_acceptors: 4, my_key: { a: 1 } });
  });
});

describe('conn_opts: TLS material', () => {
  it('cert/key (PEM or DER, in memory) and certfile/keyfile load the same chain and key', async () => {
    const f = await testPki();
    const fromFiles = client({ certfile: f.clientCertfile, keyfile: f.clientKeyfile });
    const fromPem = client({ cert: f.client.certificatePem + f.pki.intermediate.certificatePem, key: f.client.privateKeyPem });
    const fromDer = client({ cert: f.client.certificate, key: f.client.privateKey });
    expect(fromFiles.certificateChain).toHaveLength(2);
    expect(fromPem.certificateChain).toEqual(fromFiles.certificateChain);
    expect(fromDer.certificateChain![0]).toEqual(fromFiles.certificateChain![0]);
    expect(fromPem.privateKey).toEqual(fromFiles.privateKey);
    expect(fromDer.privateKey).toEqual(fromFiles.privateKey);
  });

  it('password decrypts an encrypted key file; a wrong or missing one is an error naming keyfile', async () => {
    const f = await testPki();
    const ok = client({ certfile: f.clientCertfile, keyfile: f.clientEncryptedKeyfile, password: f.password });
    expect(ok.privateKey).toEqual(client({ certfile: f.clientCertfile, keyfile: f.clientKeyfile }).privateKey);
    const wrong = thrown(() => client({ certfile: f.clientCertfile, keyfile: f.clientEncryptedKeyfile, password: 'nope' }));
    expect(wrong).toBeInstanceOf(TypeError);
    expect(wrong.message).toMatch(/^conn_opts\.keyfile: ".+client-key-encrypted\.pem" cannot be used: /);
    expect(thrown(() => client({ certfile: f.clientCertfile, keyfile: f.clientEncryptedKeyfile })).message).toMatch(/^conn_opts\.keyfile: .*password/);
    expect(thrown(() => client({ password: 'x'.repeat(256), certfile: f.clientCertfile, keyfile: f.clientKeyfile }))).toBeInstanceOf(RangeError);
    expect(thrown(() => client({ password: f.password })).message).toBe('conn_opts.password: given without key or keyfile; it decrypts an encrypted private key');
  });

  it('half a credential, both forms at once, a mismatched key or an unreadable file are errors', async () => {
    const f = await testPki();
    expect(thrown(() => client({ certfile: f.clientCertfile })).message).toBe('conn_opts.certfile: given without key or keyfile; a certificate and its private key go together');
    expect(thrown(() => client({ key: f.client.privateKeyPem })).message).toBe('conn_opts.key: given without cert or certfile; a certificate and its private key go together');
    expect(thrown(() => client({ cert: f.client.certificatePem, certfile: f.clientCertfile, keyfile: f.clientKeyfile })).message).toMatch(/^conn_opts\.cert: given together with certfile/);
    expect(thrown(() => client({ certfile: f.certfile, keyfile: f.clientKeyfile })).message).toBe('conn_opts.keyfile: the private key does not match the certificate in certfile');
    const missing = thrown(() => client({ certfile: '/nonexistent/chain.pem', keyfile: f.clientKeyfile }));
    expect(missing).toBeInstanceOf(TypeError);
    expect(missing.message).toMatch(/^conn_opts\.certfile: "\/nonexistent\/chain\.pem" cannot be used: /);
    expect(thrown(() => client({ cert: 'not a certificate', key: f.client.privateKeyPem })).message).toMatch(/^conn_opts\.cert: "not a certificate" cannot be used/);
    expect(thrown(() => client({ cert: 7, key: f.client.privateKeyPem })).message).toMatch(/^conn_opts\.cert: 7 is not allowed; expected PEM text/);
  });

  it('a listener needs a certificate; cacertfile must be readable; verify takes quicer atoms', async () => {
    const f = await testPki();
    expect(thrown(() => validateConnOpts({ alpn: ['x'] }, { side: 'server', where: 'listen_opts' })).message).toMatch(/^listen_opts\.certfile: missing/);
    expect(thrown(() => client({ cacertfile: '/nonexistent/ca.pem' })).message).toMatch(/^conn_opts\.cacertfile: "\/nonexistent\/ca\.pem" cannot be used/);
    expect(client({ cacertfile: f.cacertfile }).trusted).toEqual([f.pki.root.certificate]);
    for (const v of ['peer', 'verify_peer']) expect(client({ verify: v }).verifyPeer).toBe(true);
    for (const v of ['none', 'verify_none']) expect(client({ verify: v }).verifyPeer).toBe(false);
    expect(thrown(() => client({ verify: true })).message).toBe("conn_opts.verify: true is not allowed; expected 'none', 'verify_none', 'peer' or 'verify_peer'");
  });

  it('sslkeylogfile must be a file path in an existing directory', async () => {
    const f = await testPki();
    expect(client({ sslkeylogfile: `${f.dir}/keys.log` }).sslkeylogfile).toBe(`${f.dir}/keys.log`);
    expect(thrown(() => client({ sslkeylogfile: '/nonexistent-dir/keys.log' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => client({ sslkeylogfile: f.dir })).message).toMatch(/^conn_opts\.sslkeylogfile: ".+" is not allowed; expected a file path in an existing directory$/);
  });
});

describe('conn_opts: defaults', () => {
  // MsQuic 2.5.10 defaults (QUICER.md §1c), written out here so a drift in options.ts shows.
  const MSQUIC = {
    handshake_idle_timeout_ms: 10_000,
    idle_timeout_ms: 30_000,
    tls_client_max_send_buffer: 4096,
    tls_server_max_send_buffer: 8192,
    stream_recv_window_default: 65_536,
    stream_recv_buffer_default: 4096,
    conn_flow_control_window: 16_777_216,
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
    datagram_receive_enabled: false,
    server_resumption_level: 0,
  };

  it("servers get MsQuic's defaults; clients quicer's peer stream counts of 1", async () => {
    expect((await server({})).settings).toEqual(MSQUIC);
    expect(client({}).settings).toEqual({ ...MSQUIC, peer_bidi_stream_count: 1, peer_unidi_stream_count: 1 });
    expect(Object.keys(client({}).settings)).toEqual([...SETTINGS_REPORT_KEYS]);
    const d = client({});
    expect([d.verifyPeer, d.customVerify, d.quicEventMask, d.localAddress, d.sslkeylogfile, d.nst]).toEqual([false, false, 0, undefined, undefined, undefined]);
  });

  it('the settings reach the engine', () => {
    const t = client({
      handshake_idle_timeout_ms: 1111,
      idle_timeout_ms: 2222,
      stream_recv_window_default: 1 << 14,
      conn_flow_control_window: 3333,
      initial_window_packets: 4,
      send_idle_timeout_ms: 5555,
      initial_rtt_ms: 66,
      max_ack_delay_ms: 7,
      disconnect_timeout_ms: 8888,
      keep_alive_interval_ms: 99,
      peer_bidi_stream_count: 11,
      peer_unidi_stream_count: 12,
      pacing_enabled: 0,
      datagram_receive_enabled: 1,
      tls_client_max_send_buffer: 1313,
      tls_server_max_send_buffer: 1414,
    }).transport;
    expect(t).toMatchObject({
      handshakeIdleTimeout: 1111,
      maxIdleTimeout: 2222,
      initialMaxStreamDataBidiLocal: 1 << 14,
      initialMaxStreamDataBidiRemote: 1 << 14,
      initialMaxStreamDataUni: 1 << 14,
      initialMaxData: 3333,
      initialWindowPackets: 4,
      sendIdleTimeout: 5555,
      initialRtt: 66,
      maxAckDelay: 7,
      disconnectTimeout: 8888,
      keepAliveInterval: 99,
      initialMaxStreamsBidi: 11,
      initialMaxStreamsUni: 12,
      pacing: false,
      maxDatagramFrameSize: 65535,
      congestionControl: 'cubic',
      maxTlsSendBuffer: 1313,
    });
  });

  it('a server takes tls_server_max_send_buffer as its TLS limit, and issues tickets from server_resumption_level 1', async () => {
    const s = await server({ tls_client_max_send_buffer: 1313, tls_server_max_send_buffer: 1414, server_resumption_level: 1 });
    expect(s.transport.maxTlsSendBuffer).toBe(1414);
    expect(s.transport.issueSessionTicket).toBe(true);
    expect((await server({})).transport.issueSessionTicket).toBe(false);
    expect((await server({ server_resumption_level: 2 })).serverResumptionLevel).toBe(2);
  });

  it('nst, datagram_receive_enabled and server_resumption_level are accepted (their callbacks need them)', () => {
    const t = new Uint8Array([1, 2, 3]);
    expect(client({ nst: t }).nst).toBe(t);
    expect(thrown(() => client({ nst: new Uint8Array(0) }))).toBeInstanceOf(TypeError);
    expect(client({ datagram_receive_enabled: true }).datagramReceiveEnabled).toBe(true);
    expect(client({ datagram_receive_enabled: 0 }).transport.maxDatagramFrameSize).toBe(0);
    expect(client({ server_resumption_level: 1 }).serverResumptionLevel).toBe(1);
  });
});

describe('stream_opts (QUICER.md §3e)', () => {
  it("defaults are quicer's start_stream ones", () => {
    expect(validateStreamOpts({})).toEqual({ active: true, openFlag: 0, startFlag: 4, eventMask: 0, disableFpbuffer: false, priority: undefined, app: {} });
  });

  const STREAM: Array<[string, unknown, unknown, unknown]> = [
    ['active', 'yes', 32768, 'once'],
    ['open_flag', 'uni', 4, 1],
    ['start_flag', 1.5, 32, 8],
    ['event_mask', 'start', -1, 1],
    ['quic_event_mask', {}, 2 ** 32, 1],
    ['disable_fpbuffer', 1, undefined, true],
    ['priority', '1', 65536, 65535],
  ];

  it.each(STREAM)('%s: bad values are refused with the key and value; good ones kept', (key, wrongType, outOfRange, good) => {
    const e1 = thrown(() => validateStreamOpts({ [key]: wrongType }));
    expect(e1).toBeInstanceOf(TypeError);
    expect(e1.message).toMatch(new RegExp(`^stream_opts\\.${key}: .+ is not allowed; expected .+`));
    if (outOfRange !== undefined) {
      const e2 = thrown(() => validateStreamOpts({ [key]: outOfRange }));
      expect(e2).toBeInstanceOf(RangeError);
      expect(e2.message).toContain(`stream_opts.${key}: ${String(outOfRange)} is not allowed`);
    }
    expect(() => validateStreamOpts({ [key]: good })).not.toThrow();
  });

  it('active takes true, false, once and counts in -32768..32767', () => {
    for (const a of [true, false, 'once', -32768, 0, 5, 32767]) expect(validateStreamOpts({ active: a }).active).toBe(a);
  });

  it('event_mask and quic_event_mask mean the same; disagreeing values are an error', () => {
    expect(validateStreamOpts({ event_mask: 1 }).eventMask).toBe(1);
    expect(validateStreamOpts({ quic_event_mask: 1 }).eventMask).toBe(1);
    expect(thrown(() => validateStreamOpts({ quic_event_mask: 1, event_mask: 0 }))).toBeInstanceOf(TypeError);
  });

  it.each(['stream_id', 'ideal_send_buffer_size', '0rtt_length'])('%s is read-only', (key) => {
    const e = thrown(() => validateStreamOpts({ [key]: 4 }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(`stream_opts.${key}: 4 was given, but the key is read-only; leave it out and read it with getopt(stream, '${key}')`);
  });

  it('private and application keys pass through', () => {
    expect(validateStreamOpts({ is_local: true, stream_callback: 'm' }).app).toEqual({ is_local: true, stream_callback: 'm' });
  });
});

describe('bad options fail before any packet is sent', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['a value out of range', { alpn: ['x'], idle_timeout_ms: -1 }],
    ['a read-only key', { alpn: ['x'], local_bidi_stream_count: 2 }],
    ['a feature not available yet', { alpn: ['x'], max_bytes_per_key: 1 << 20 }],
    ['a missing alpn', { verify: 'none' }],
  ];

  it.each(bad)('connect, asyncConnect and startLink with %s: nothing reaches the peer', async (_what, opts) => {
    const hole = await BlackHole.create();
    try {
      await expect(quicer.connect('127.0.0.1', hole.port, opts, 1000)).rejects.toThrow(/^conn_opts\./);
      await expect(quicer.asyncConnect('127.0.0.1', hole.port, opts)).rejects.toThrow(/^conn_opts\./);
      const caller = new Inbox();
      await expect(QuicConnection.startLink({ init: () => ['ok', 0] }, ['127.0.0.1', hole.port], [opts, {}])).rejects.toThrow(/^conn_opts\./);
      caller.exit('normal');
      await delay(150);
      expect(hole.arrivals).toEqual([]);
    } finally {
      await hole.close();
    }
  });

  it('listen with bad options throws and binds nothing', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const f = await testPki();
    const base = { alpn: ['x'], certfile: f.certfile, keyfile: f.keyfile };
    await expect(quicer.listen(`127.0.0.1:${port}`, { ...base, peer_bidi_stream_count: -1 })).rejects.toThrow(RangeError);
    await expect(quicer.listen(`127.0.0.1:${port}`, { ...base, migration_enabled: 0 })).rejects.toThrow(/^listen_opts\.migration_enabled: 0 was given, but .+ not available yet/);
    await expect(quicer.listen(`127.0.0.1:${port}`, { alpn: ['x'] })).rejects.toThrow(/^listen_opts\.certfile: missing/);
    // The port is still free: nothing was bound.
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((r) => again.close(() => r()));
  });
});
