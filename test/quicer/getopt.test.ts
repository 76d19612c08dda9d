/**
 * getopt / setopt (QUICER.md §0.6, §1a, §3e, §3g) on live connections, streams and listeners
 * over UDP loopback: the settings report, negotiated_alpn at level quic_tls, the read-only
 * stream counters, the custom_verify toggle, stream active / priority / stream_id, and the
 * error terms for bad or unsupported options.
 */
import { describe, it, expect } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import { Inbox } from '../../src/quicer/process.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';
import { SETTINGS_REPORT_KEYS } from '../../src/quicer/options.js';
import { delay, quicEvent, testPki, perTest } from './options-harness.js';

const { cleanup, server, client } = perTest();



async function attempt(port: number, opts: Record<string, unknown>): Promise<{ conn: QuicConn; events: Inbox }> {
  const events = new Inbox();
  const r = await quicer.asyncConnect('127.0.0.1', port, { alpn: ['opt-test'], ...opts }, { owner: events });
  const conn = (r as ['ok', QuicConn])[1];
  cleanup.push(async () => {
    quicer.asyncShutdownConnection(conn, 0, 0);
    events.exit('normal');
  });
  return { conn, events };
}

describe('settings report', () => {
  it('has the settings in effect, in quicer order, booleans as booleans, for connections, handles and listeners', async () => {
    const s = await server({ idle_timeout_ms: 7000, pacing_enabled: 0, peer_bidi_stream_count: 9 });
    const c = await client(s.port, { keep_alive_interval_ms: 250, send_buffering_enabled: false, datagram_receive_enabled: 1 });
    const [ok, rep] = quicer.getopt(c.conn, 'settings') as ['ok', Record<string, unknown>];
    expect(ok).toBe('ok');
    expect(Object.keys(rep)).toEqual([...SETTINGS_REPORT_KEYS]);
    expect(rep).toMatchObject({ keep_alive_interval_ms: 250, send_buffering_enabled: false, datagram_receive_enabled: true, pacing_enabled: true, peer_bidi_stream_count: 1, idle_timeout_ms: 30_000 });
    for (const v of Object.values(rep)) expect(['number', 'boolean']).toContain(typeof v);
    expect(quicer.getopt(s.conns[0]!, 'settings')).toMatchObject(['ok', { idle_timeout_ms: 7000, pacing_enabled: false, peer_bidi_stream_count: 9 }]);
    expect(quicer.getopt(s.listener, 'settings')).toMatchObject(['ok', { idle_timeout_ms: 7000, peer_bidi_stream_count: 9 }]);
    expect(quicer.getopt(s.listener, 'alpn')).toEqual(['ok', ['opt-test']]);
    // Single settings by name.
    expect(quicer.getopt(c.conn, 'keep_alive_interval_ms')).toEqual(['ok', 250]);
    expect(quicer.getopt(s.listener, 'idle_timeout_ms')).toEqual(['ok', 7000]);
    const h = quicer.openConnection(new Inbox());
    expect(quicer.getopt(h, 'settings')).toMatchObject(['ok', { idle_timeout_ms: 30_000, peer_bidi_stream_count: 1 }]);
  });
});

describe('connection options', () => {
  it('negotiated_alpn at level quic_tls (invalid_state before the handshake; other quic_tls options not_found)', async () => {
    const s = await server({ alpn: ['x', 'opt-test'] });
    const c = await client(s.port, { alpn: ['opt-test', 'x'] });
    expect(quicer.getopt(c.conn, 'negotiated_alpn', 'quic_tls')).toEqual(['ok', 'x']);
    expect(quicer.getopt(c.conn, 'handshake_info', 'quic_tls')).toEqual(['error', 'not_found']);
    expect(quicer.getopt(quicer.openConnection(new Inbox()), 'negotiated_alpn', 'quic_tls')).toEqual(['error', 'invalid_state']);
  });

  it('local_bidi_stream_count / local_unidi_stream_count count down as streams open; setting them is invalid_parameter', async () => {
    const s = await server({ peer_bidi_stream_count: 3, peer_unidi_stream_count: 2 });
    const c = await client(s.port);
    expect(quicer.getopt(c.conn, 'local_bidi_stream_count')).toEqual(['ok', 3]);
    expect(quicer.getopt(c.conn, 'local_peer_unidi_stream_count')).toEqual(['ok', 2]);
    quicer.startStream(c.conn, {}, c.events);
    quicer.startStream(c.conn, { open_flag: 1 }, c.events);
    expect(quicer.getopt(c.conn, 'local_bidi_stream_count')).toEqual(['ok', 2]);
    expect(quicer.getopt(c.conn, 'local_unidi_stream_count')).toEqual(['ok', 1]);
    for (const k of ['local_bidi_stream_count', 'local_unidi_stream_count', 'local_peer_unidi_stream_count']) {
      expect(quicer.setopt(c.conn, k, 10)).toEqual(['error', 'invalid_parameter']);
    }
    expect(quicer.getopt(quicer.openConnection(new Inbox()), 'local_bidi_stream_count')).toEqual(['error', 'invalid_state']);
  });

  it('addresses, version, datagram state', async () => {
    const s = await server();
    const c = await client(s.port);
    expect(quicer.getopt(c.conn, 'remote_address')).toEqual(['ok', { address: '127.0.0.1', port: s.port }]);
    const local = quicer.getopt(c.conn, 'local_address') as ['ok', { port: number }];
    expect(quicer.getopt(s.conns[0]!, 'remote_address')).toMatchObject(['ok', { port: local[1].port }]);
    expect(quicer.getopt(c.conn, 'quic_version')).toEqual(['ok', 1]);
    expect(quicer.getopt(c.conn, 'datagram_send_enabled')).toEqual(['ok', false]);
    expect(quicer.getopt(s.listener, 'local_address')).toMatchObject(['ok', { port: s.port }]);
  });
});

describe('custom_verify toggle', () => {
  it('switched on before the certificate arrives: the owner decides (here accepting a chain the built-in check refuses)', async () => {
    const f = await testPki();
    const s = await server();
    const c = await attempt(s.port, { verify: 'verify_peer', cacertfile: f.otherCacertfile });
    expect(quicer.getopt(c.conn, 'custom_verify')).toEqual(['ok', false]);
    expect(quicer.setopt(c.conn, 'custom_verify', true)).toEqual(['ok']);
    expect(quicer.getopt(c.conn, 'custom_verify')).toEqual(['ok', true]);
    await quicEvent(c.events, 'peer_cert_received');
    // Decided on: no more switching.
    expect(quicer.setopt(c.conn, 'custom_verify', false)).toEqual(['error', 'invalid_state']);
    quicer.completeCertValidation(c.conn, true);
    await quicEvent(c.events, 'connected');
  });

  it('switched off: the built-in check decides and the owner is not asked', async () => {
    const f = await testPki();
    const s = await server();
    const c = await attempt(s.port, { custom_verify: true, verify: 'verify_peer', cacertfile: f.cacertfile });
    expect(quicer.setopt(c.conn, 'custom_verify', false)).toEqual(['ok']);
    await quicEvent(c.events, 'connected');
    expect(c.events.pending.some((m) => Array.isArray(m) && m[1] === 'peer_cert_received')).toBe(false);
    const bad = await attempt(s.port, { custom_verify: true, verify: 'verify_peer', cacertfile: f.otherCacertfile });
    quicer.setopt(bad.conn, 'custom_verify', false);
    expect((await quicEvent(bad.events, 'transport_shutdown'))[3]).toEqual({ status: 'cert_untrusted_root', error: 304 });
  });

  it('refused when it cannot act: after the handshake, on a connection that checks no certificate, for a non-boolean', async () => {
    const s = await server();
    const c = await client(s.port);
    expect(quicer.setopt(c.conn, 'custom_verify', true)).toEqual(['error', 'invalid_state']);
    const plain = await attempt(s.port, { verify: 'none' });
    expect(quicer.setopt(plain.conn, 'custom_verify', true)).toEqual(['error', 'invalid_state']);
    expect(quicer.setopt(plain.conn, 'custom_verify', 'yes')).toEqual(['error', 'param_error']);
  });

  it('on a listener: later connections must present a certificate and the acceptor decides', async () => {
    const f = await testPki();
    let sconn: QuicConn | undefined;
    const s = await server({}, { onNewConn: (c) => ((sconn = c), quicer.asyncHandshake(c)) });
    expect(quicer.getopt(s.listener, 'custom_verify')).toEqual(['ok', false]);
    expect(quicer.setopt(s.listener, 'custom_verify', true)).toEqual(['ok']);
    expect(quicer.getopt(s.listener, 'custom_verify')).toEqual(['ok', true]);
    const c = await attempt(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile, verify: 'none' });
    await quicEvent(s.events, 'peer_cert_received');
    quicer.completeCertValidation(sconn!, true);
    await quicEvent(c.events, 'connected');
    expect(quicer.setopt(s.listener, 'custom_verify', 1)).toEqual(['error', 'param_error']);
  });
});

describe('stream options', () => {
  it('stream_id, active, priority; stream_id and the other read-only values cannot be set', async () => {
    const s = await server();
    const c = await client(s.port);
    const a = (quicer.startStream(c.conn, { active: false }, c.events) as ['ok', QuicStrm])[1];
    const b = (quicer.startStream(c.conn, { active: 3, priority: 9 }, c.events) as ['ok', QuicStrm])[1];
    expect(quicer.getopt(a, 'stream_id')).toEqual(['ok', 0]);
    expect(quicer.getopt(b, 'stream_id')).toEqual(['ok', 4]);
    expect(quicer.getopt(a, 'active')).toEqual(['ok', false]);
    expect(quicer.getopt(b, 'active')).toEqual(['ok', 3]);
    expect(quicer.setopt(a, 'active', 'once')).toEqual(['ok']);
    expect(quicer.getopt(a, 'active')).toEqual(['ok', 'once']);
    expect(quicer.setopt(a, 'active', 'sometimes')).toEqual(['error', 'param_error']);
    expect(quicer.setopt(a, 'active', 40_000)).toEqual(['error', 'param_error']);
    expect(quicer.getopt(a, 'priority')).toEqual(['ok', 0x7fff]);
    expect(quicer.getopt(b, 'priority')).toEqual(['ok', 9]);
    expect(quicer.setopt(a, 'priority', 100)).toEqual(['ok']);
    expect(quicer.getopt(a, 'priority')).toEqual(['ok', 100]);
    expect(quicer.setopt(a, 'priority', 65536)).toEqual(['error', 'param_error']);
    for (const k of ['stream_id', 'ideal_send_buffer_size', '0rtt_length']) expect(quicer.setopt(a, k, 1)).toEqual(['error', 'not_supported']);
    for (const k of ['ideal_send_buffer_size', '0rtt_length']) expect(quicer.getopt(a, k)).toEqual(['error', 'not_supported']);
    // Other options are the connection's.
    expect(quicer.getopt(a, 'local_bidi_stream_count')).toEqual(quicer.getopt(c.conn, 'local_bidi_stream_count'));
    expect(quicer.getopt(a, 'negotiated_alpn', 'quic_tls')).toEqual(['ok', 'opt-test']);
  });
});

describe('error terms', () => {
  it('badarg for a non-handle, a non-string option or an unknown level; param_error for unknown options; not_supported for known ones purequic does not serve', async () => {
    const s = await server();
    const c = await client(s.port);
    expect(quicer.getopt({} as QuicConn, 'settings')).toEqual(['error', 'badarg']);
    expect(quicer.setopt(null as unknown as QuicConn, 'settings', {})).toEqual(['error', 'badarg']);
    expect(quicer.getopt(c.conn, 42 as unknown as string)).toEqual(['error', 'badarg']);
    expect(quicer.getopt(c.conn, 'settings', 'quic_nowhere' as 'quic_tls')).toEqual(['error', 'badarg']);
    expect(quicer.getopt(c.conn, 'no_such_option')).toEqual(['error', 'param_error']);
    expect(quicer.setopt(c.conn, 'no_such_option', 1)).toEqual(['error', 'param_error']);
    expect(quicer.getopt(s.listener, 'no_such_option')).toEqual(['error', 'param_error']);
    expect(quicer.setopt(s.listener, 'idle_timeout_ms', 5)).toEqual(['error', 'param_error']);
    for (const k of ['statistics', 'share_udp_binding', 'disable_1rtt_encryption', 'close_reason_phrase']) {
      expect(quicer.getopt(c.conn, k)).toEqual(['error', 'not_supported']);
      expect(quicer.setopt(c.conn, k, 1)).toEqual(['error', 'not_supported']);
    }
    expect(quicer.getopt(c.conn, 'resumption_ticket')).toEqual(['error', 'not_found']);
    // getstat: counters asked for, in order; an unknown one is badarg.
    const st = quicer.getstat(c.conn, ['send_oct', 'recv_cnt']) as ['ok', Array<[string, number]>];
    expect(st[1].map(([k]) => k)).toEqual(['send_oct', 'recv_cnt']);
    expect(st[1][0]![1]).toBeGreaterThan(1000);
    expect(quicer.getstat(c.conn, ['send_oct', 'bogus'])).toEqual(['error', 'badarg']);
    expect(quicer.getstat(quicer.openConnection(new Inbox()), ['send_oct'])).toEqual(['error', 'closed']);
  });

  it('settings: a non-map is badarg; a bad value, or one that cannot change after start, invalid_parameter (nothing applied)', async () => {
    const s = await server();
    const c = await client(s.port);
    expect(quicer.setopt(c.conn, 'settings', 'fast')).toEqual(['error', 'badarg']);
    expect(quicer.setopt(c.conn, 'settings', { keep_alive_interval_ms: -5 })).toEqual(['error', 'invalid_parameter']);
    expect(quicer.setopt(c.conn, 'settings', { max_bytes_per_key: 10 })).toEqual(['error', 'invalid_parameter']);
    expect(quicer.setopt(c.conn, 'settings', { alpn: ['h3'] })).toEqual(['error', 'invalid_parameter']);
    expect(quicer.setopt(c.conn, 'settings', { local_bidi_stream_count: 3 })).toEqual(['error', 'invalid_parameter']);
    expect(quicer.setopt(c.conn, 'settings', { keep_alive_interval_ms: 100, idle_timeout_ms: 5 })).toEqual(['error', 'invalid_parameter']);
    expect(quicer.getopt(c.conn, 'settings')).toMatchObject(['ok', { keep_alive_interval_ms: 0, idle_timeout_ms: 30_000 }]);
    expect(quicer.setopt(c.conn, 'settings', { keep_alive_interval_ms: 100 })).toEqual(['ok']);
    expect(quicer.getopt(c.conn, 'keep_alive_interval_ms')).toEqual(['ok', 100]);
  });

  it('pre-start options on a started connection are invalid_state; on a handle bad values are badarg', async () => {
    const s = await server();
    const c = await client(s.port);
    expect(quicer.setopt(c.conn, 'resumption_ticket', new Uint8Array([1]))).toEqual(['error', 'invalid_state']);
    expect(quicer.setopt(c.conn, 'datagram_receive_enabled', true)).toEqual(['error', 'invalid_state']);
    const h = quicer.openConnection(new Inbox());
    expect(quicer.setopt(h, 'local_address', 'localhost:5000')).toEqual(['error', 'badarg']);
    expect(quicer.setopt(h, 'resumption_ticket', 'ticket')).toEqual(['error', 'badarg']);
    expect(quicer.setopt(h, 'datagram_receive_enabled', 'on')).toEqual(['error', 'badarg']);
    expect(quicer.setopt(h, 'datagram_receive_enabled', true)).toEqual(['ok']);
    expect(quicer.getopt(h, 'datagram_receive_enabled')).toEqual(['ok', true]);
    expect(quicer.setopt(h, 'settings', { peer_bidi_stream_count: 70_000 })).toEqual(['error', 'invalid_parameter']);
    await delay(0);
  });
});
