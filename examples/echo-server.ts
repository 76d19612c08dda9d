/**
 * An echo server written the way a quicer user writes one: a `quicer_connection` callback
 * module (`echoServerConnection`) served by a `quicer_listener` with a pool of acceptors, and a
 * `quicer_stream` callback module (`echoStream`) that runs each stream the clients open: every
 * chunk is sent back, and the stream is finished when the client finishes it.
 *
 * Run it (after `npm run build`):
 *
 * ```sh
 * node dist/examples/echo-server.js [port]     # prints "echo server listening on 127.0.0.1:<port>"
 * ```
 *
 * In an application, import from `'purequic'` instead of `'../src/index.js'`.
 */
import { fileURLToPath } from 'node:url';
import {
  QuicListenerServer,
  QuicStream,
  RecvFlag,
  SendFlag,
  StreamShutdownFlag,
  quicer,
  selfSignedCertificate,
  type ConnectionCallbacks,
  type StreamCallbacks,
} from '../src/index.js';

/** The ALPN the echo example speaks. */
export const ECHO_ALPN = 'echo';

/** What one echo stream process keeps: how many bytes it sent back. */
export interface EchoStreamState {
  echoed: number;
}

/**
 * The stream callback module: one process per stream the client opens. It takes the stream
 * over from the connection process (a handoff), turns it active and sends every chunk back,
 * finishing its side when the client finished. Without a `streamClosed` callback the process
 * stops once the stream is closed.
 */
export const echoStream: StreamCallbacks<EchoStreamState> = {
  initHandoff: () => ['ok', { echoed: 0 }],

  /** The stream is ours now. Streams the peer opens arrive passive: turn this one active. */
  postHandoff(stream, _info, state) {
    quicer.setopt(stream, 'active', true);
    return ['ok', state];
  },

  handleStreamData(stream, data, props, state) {
    quicer.asyncSend(stream, data, props.flags & RecvFlag.FIN ? SendFlag.FIN : SendFlag.NONE);
    return ['ok', { echoed: state.echoed + data.length }];
  },
};

/**
 * The connection callback module of the server's acceptors. quicer calls `init` when the
 * first connection reaches an acceptor, then `newConn`; the handshake goes on only once
 * `newConn` asks for it. Each stream the client opens comes to `newStream` and is handed to a
 * new {@link echoStream} process.
 */
export const echoServerConnection: ConnectionCallbacks<null> = {
  init: () => ['ok', null],

  newConn(conn, _props, state) {
    quicer.asyncHandshake(conn);
    return ['ok', state];
  },

  async newStream(stream, _props, state) {
    const started = await QuicStream.startLinkHandoff(echoStream, stream, stream.conn);
    if (started[0] === 'ok') quicer.handoffStream(stream, started[1]);
    else quicer.asyncShutdownStream(stream, StreamShutdownFlag.ABORT, 1);
    return ['ok', state];
  },

  /** The connection is gone: end the process (quicer's examples do the same). */
  closed: (_conn, _props, state) => ['stop', 'normal', state],
};

/** Options for {@link startEchoServer}. */
export interface EchoServerOptions {
  /** Port to listen on (0: any free port). Default 0. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Certificate and key (PEM). Default: a fresh self-signed certificate for localhost and 127.0.0.1. */
  cert?: string;
  key?: string;
  /** Acceptors kept waiting for new connections. Default 4. */
  acceptors?: number;
}

/** A running echo server. */
export interface EchoServer {
  /** The `quicer_listener` process: the listener, its configuration and its acceptors. */
  server: QuicListenerServer;
  port: number;
  /** Stops the listener; its connections are closed (application error 0). */
  stop(): Promise<void>;
}

/**
 * Starts the echo server: a `quicer_listener` named `name` whose `conn_acceptors` acceptors
 * run {@link echoServerConnection}; each acceptor that takes a connection is replaced.
 */
export async function startEchoServer(options: EchoServerOptions = {}, name = 'echo'): Promise<EchoServer> {
  const host = options.host ?? '127.0.0.1';
  let { cert, key } = options;
  if (cert === undefined || key === undefined) {
    const id = await selfSignedCertificate({ hosts: ['localhost', host], now: Date.now() });
    cert = id.certificatePem;
    key = id.privateKeyPem;
  }
  const listenOpts = { alpn: [ECHO_ALPN], cert, key, conn_acceptors: options.acceptors ?? 4, peer_bidi_stream_count: 100 };
  const connOpts = { conn_callback: echoServerConnection };
  const r = await QuicListenerServer.startLink(name, `${host}:${options.port ?? 0}`, [listenOpts, connOpts, {}]);
  if (r[0] !== 'ok') throw new Error(`listen failed: ${String(r[1])}`);
  const server = r[1];
  const [, listener] = await QuicListenerServer.getHandle(server);
  return { server, port: listener.address().port, stop: () => QuicListenerServer.stop(server) };
}

async function main(): Promise<void> {
  const port = process.argv[2] === undefined ? 0 : Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`usage: echo-server [port]  (got ${process.argv[2]})`);
    process.exit(2);
  }
  const server = await startEchoServer({ port });
  console.log(`echo server listening on 127.0.0.1:${server.port} (ALPN ${ECHO_ALPN})`);
  const stop = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
