import { describe, it, expect, afterAll } from 'vitest';
import { selfSignedCertificate } from '../../src/tls/certificate-authority.js';
import { QuicConnection, type ConnectionCallbacks } from '../../src/quicer/connection.js';
import * as quicer from '../../src/quicer/quicer.js';
import { Inbox } from '../../src/quicer/process.js';
import type { QuicListener } from '../../src/quicer/listener.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';

const listeners: QuicListener[] = [];
afterAll(async () => {
  for (const l of listeners) await l.shutdown();
});

describe('quicer smoke', () => {
  it('echo: a quicer_connection client talks to an acceptor-served listener', async () => {
    const id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
    const r = await quicer.listen('127.0.0.1:0', { alpn: ['sample'], cert: id.certificatePem, key: id.privateKeyPem, peer_bidi_stream_count: 10 });
    expect(r[0]).toBe('ok');
    const l = r[1] as QuicListener;
    listeners.push(l);
    const serverCb: ConnectionCallbacks<{ n: number }> = {
      init: () => ['ok', { n: 0 }],
      newConn: (conn, _props, s) => {
        quicer.asyncHandshake(conn);
        return ['ok', s];
      },
      newStream: (stream, props, s) => {
        expect(props.is_orphan).toBe(true);
        quicer.setopt(stream, 'active', true);
        return ['ok', s];
      },
      handleInfo: (info, s) => {
        if (Array.isArray(info) && info[0] === 'quic' && info[1] instanceof Uint8Array) {
          const stream = info[2] as QuicStrm;
          const props = info[3] as { flags: number };
          quicer.asyncSend(stream, info[1], props.flags & 2 ? 4 : 0);
          return ['ok', { n: s.n + info[1].length }];
        }
        return ['ok', s];
      },
    };
    const sup = { startChild: () => void QuicConnection.startAcceptor(l, conf, sup) };
    const conf = { l_opts: {}, c_opts: { conn_callback: serverCb }, s_opts: {} };
    sup.startChild();

    const events = new Inbox();
    const clientCb: ConnectionCallbacks<{ inbox: Inbox }> = {
      init: (opts) => ['ok', { inbox: opts.inbox as Inbox }],
      connected: (conn, props, s) => {
        s.inbox.send(['connected', props]);
        const [, stream] = quicer.startStream(conn, { active: true }) as ['ok', QuicStrm];
        quicer.asyncSend(stream, new TextEncoder().encode('hello quicer'), 4);
        return ['ok', s];
      },
      handleInfo: (info, s) => {
        s.inbox.send(info);
        return ['ok', s];
      },
    };
    const port = l.address().port;
    const started = await QuicConnection.startLink(clientCb, ['127.0.0.1', port], [{ alpn: ['sample'], verify: 'none', inbox: events }, {}]);
    expect(started[0]).toBe('ok');
    const connected = await events.receive<unknown[]>((m) => Array.isArray(m) && m[0] === 'connected');
    expect(connected[1]).toMatchObject({ is_resumed: false, alpns: 'sample' });
    const data = await events.receive<unknown[]>((m) => Array.isArray(m) && m[0] === 'quic' && m[1] instanceof Uint8Array);
    expect(new TextDecoder().decode(data[1] as Uint8Array)).toBe('hello quicer');
    expect((data[3] as { flags: number }).flags & 2).toBe(2);
  });
});
