/**
 * The README's quick start, as a file the build checks and a test runs
 * (`node dist/examples/quick-start.js`). test/examples/readme.test.ts keeps the README's copy
 * identical to the code below this comment (with `'purequic'` as the import).
 */
import {
  Inbox,
  QuicConnection,
  QuicListenerServer,
  QuicStream,
  RecvFlag,
  SendFlag,
  quicer,
  selfSignedCertificate,
  type ConnectionCallbacks,
  type LocalStreamState,
  type StreamCallbacks,
} from '../src/index.js';

// Server side. A stream callback module: send every chunk back, FIN included.
const echoStream: StreamCallbacks<null> = {
  initHandoff: () => ['ok', null],
  postHandoff(stream, _info, state) {
    quicer.setopt(stream, 'active', true); // streams the peer opens arrive passive
    return ['ok', state];
  },
  handleStreamData(stream, data, { flags }, state) {
    quicer.asyncSend(stream, data, flags & RecvFlag.FIN ? SendFlag.FIN : SendFlag.NONE);
    return ['ok', state];
  },
};

// A connection callback module: continue each handshake, give each new stream to an echo process.
const echoServer: ConnectionCallbacks<null> = {
  init: () => ['ok', null],
  newConn(conn, _props, state) {
    quicer.asyncHandshake(conn);
    return ['ok', state];
  },
  async newStream(stream, _props, state) {
    const started = await QuicStream.startLinkHandoff(echoStream, stream, stream.conn);
    if (started[0] === 'ok') quicer.handoffStream(stream, started[1]);
    return ['ok', state];
  },
  closed: (_conn, _props, state) => ['stop', 'normal', state],
};

// A listener with 4 acceptors running that module (each one that takes a connection is replaced).
const { certificatePem, privateKeyPem } = await selfSignedCertificate({ hosts: ['localhost'], now: Date.now() });
const listenOpts = { alpn: ['echo'], cert: certificatePem, key: privateKeyPem, conn_acceptors: 4, peer_bidi_stream_count: 10 };
const listening = await QuicListenerServer.startLink('echo', '127.0.0.1:0', [listenOpts, { conn_callback: echoServer }, {}]);
if (listening[0] !== 'ok') throw new Error(`listen: ${String(listening[1])}`);
const [, listener] = await QuicListenerServer.getHandle(listening[1]);
const port = listener.address().port;

// Client side. A connection callback module, started with startLink.
const client: ConnectionCallbacks<null> = {
  init: () => ['ok', null],
  connected(_conn, props, state) {
    console.log(`connected, ALPN ${props.alpns}`);
    return ['ok', state];
  },
  closed: (_conn, _props, state) => ['stop', 'normal', state],
};
const started = await QuicConnection.startLink(client, ['127.0.0.1', port], [{ alpn: ['echo'], verify: 'none' }, {}]);
if (started[0] !== 'ok') throw new Error(`start_link: ${String(started[1])}`);

// streamSend opens a stream owned by a new process running this stream callback module.
const replies = new Inbox();
const printer: StreamCallbacks<LocalStreamState & { text?: string }> = {
  handleStreamData(_stream, data, { flags }, state) {
    const text = (state.text ?? '') + new TextDecoder().decode(data);
    if (flags & RecvFlag.FIN) replies.send(text); // the echo is complete
    return ['ok', { ...state, text }];
  },
};
const sent = await QuicConnection.streamSend(started[1], printer, new TextEncoder().encode('hello quicer'), SendFlag.FIN, {}, 5000);
console.log(`stream_send: ${JSON.stringify(sent)}`);
console.log(`echo: ${await replies.receive()}`);

// Stopping the client's process closes its connection (application error 0), as in quicer.
await started[1].stop();
await QuicListenerServer.stop(listening[1]);
