/**
 * An echo server written the way a quicer user writes one: a `quicer_connection` callback
 * module (`echoServerConnection`) served by a `quicer_listener` with a pool of acceptors. Every stream
 * a client opens is echoed back, chunk by chunk, and finished when the client finishes.
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
  SendFlag,
  RecvFlag,
  quicer,
  selfSignedCertificate,
  type ConnectionCallbacks,
  type QuicStrm,
  type RecvDataProps,
} from '../src/index.js';

/** The ALPN the echo example speaks. */
export const ECHO_ALPN = 'echo';

/** What one server connection process keeps: how many bytes it echoed. */
export interface EchoServerState {
  echoed: number;
}

/**
 * The server's connection callback module. quicer calls `init` when the first connection
 * reaches this acceptor, then `newConn`; the handshake only goes on once `newConn` asks for it.
 */
export const echoServerConnection: ConnectionCallbacks<EchoServerState> = {
  init: () => ['ok', { echoed: 0 }],

  newConn(conn, _props, state) {
    quicer.asyncHandshake(conn);
    return ['ok', state];
  },

  connected: (_conn, _props, state) => ['ok', state],

  /** A stream the client opened. It arrives passive (an orphan of this process): turn it active. */
  newStream(stream, _props, state) {
    quicer.setopt(stream, 'active', true);
    return ['ok', state];
  },

  /** Active stream data arrives as `['quic', Bin, Stream, Props]`: echo it, FIN included. */
  handleInfo(info, state) {
    if (Array.isArray(info) && info[0] === 'quic' && info[1] instanceof Uint8Array) {
      const data = info[1];
      const stream = info[2] as QuicStrm;
      const props = info[3] as RecvDataProps;
      quicer.asyncSend(stream, data, props.flags & RecvFlag.FIN ? SendFlag.FIN : SendFlag.NONE);
      return ['ok', { echoed: state.echoed + data.length }];
    }
    return ['ok', state];
  },

  /** The client closed the connection: nothing more to do here. */
  shutdown: (_conn, _errorCode, state) => ['ok', state],

  /** The connection is gone: end the process. */
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
