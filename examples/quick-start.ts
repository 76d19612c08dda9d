/**
 * The README's quick start, as a file the build checks and a test runs
 * (`node dist/examples/quick-start.js`). test/examples/readme.test.ts keeps the README's copy
 * identical to the code below this comment (with `'purequic'` as the import).
 */
import { Inbox, QuicConnection, SendFlag, globalRegistration, quicer, selfSignedCertificate, type ConnectionCallbacks, type QuicStrm } from '../src/index.js';

// A server callback module: continue each handshake, echo every stream back.
const echoServer: ConnectionCallbacks<null> = {
  init: () => ['ok', null],
  newConn(conn, _props, state) {
    quicer.asyncHandshake(conn);
    return ['ok', state];
  },
  newStream(stream, _props, state) {
    quicer.setopt(stream, 'active', true); // peer streams arrive passive
    return ['ok', state];
  },
  handleInfo(msg, state) {
    if (Array.isArray(msg) && msg[0] === 'quic' && msg[1] instanceof Uint8Array) {
      const [, data, stream, { flags }] = msg as [string, Uint8Array, QuicStrm, { flags: number }];
      quicer.asyncSend(stream, data, flags & 2 ? SendFlag.FIN : 0); // flag 2: the peer's FIN
    }
    return ['ok', state];
  },
  closed: (_conn, _props, state) => ['stop', 'normal', state],
};

// A listener whose acceptors run that module; each acceptor that takes a connection is replaced.
const { certificatePem, privateKeyPem } = await selfSignedCertificate({ hosts: ['localhost'], now: Date.now() });
const listened = await quicer.listen('127.0.0.1:0', { alpn: ['echo'], cert: certificatePem, key: privateKeyPem, peer_bidi_stream_count: 10 });
if (listened[0] !== 'ok') throw new Error(`listen: ${String(listened[1])}`);
const listener = listened[1];
const conf = { l_opts: {}, c_opts: { conn_callback: echoServer }, s_opts: {} };
const acceptors = { startChild: () => void QuicConnection.startAcceptor(listener, conf, acceptors) };
for (let i = 0; i < 4; i++) acceptors.startChild();

// A client callback module: once connected, send a message on a new stream and report the echo.
const replies = new Inbox();
const echoClient: ConnectionCallbacks<{ got: string }> = {
  init: () => ['ok', { got: '' }],
  connected(conn, props, state) {
    console.log(`connected, ALPN ${props.alpns}`);
    const [, stream] = quicer.startStream(conn, { active: true }) as ['ok', QuicStrm];
    quicer.asyncSend(stream, new TextEncoder().encode('hello quicer'), SendFlag.FIN);
    return ['ok', state];
  },
  handleInfo(msg, state) {
    if (Array.isArray(msg) && msg[0] === 'quic' && msg[1] instanceof Uint8Array) {
      const got = state.got + new TextDecoder().decode(msg[1]);
      if (msg[3].flags & 2) replies.send(got);
      return ['ok', { got }];
    }
    return ['ok', state];
  },
};
const started = await QuicConnection.startLink(echoClient, ['127.0.0.1', listener.address().port], [{ alpn: ['echo'], verify: 'none' }, {}]);
if (started[0] !== 'ok') throw new Error(`start_link: ${String(started[1])}`);
console.log(`echo: ${await replies.receive()}`);

started[1].exit('normal'); // the client's connection closes with application error 0
await listener.shutdown();
await globalRegistration.close(); // the client connections' shared UDP socket
