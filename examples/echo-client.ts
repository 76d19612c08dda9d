/**
 * An echo client written the way a quicer user writes one: a `quicer_connection` callback
 * module (`echoClientConnection`) started with `QuicConnection.startLink`. Once connected it
 * opens a stream, sends the message with FIN, collects the echo and reports it to the process
 * that started it.
 *
 * Run it against the echo server (after `npm run build`):
 *
 * ```sh
 * node dist/examples/echo-server.js 4433 &
 * node dist/examples/echo-client.js 127.0.0.1 4433 hello quicer   # prints "echo: hello quicer"
 * ```
 *
 * In an application, import from `'purequic'` instead of `'../src/index.js'`.
 */
import { fileURLToPath } from 'node:url';
import {
  Inbox,
  QuicConnection,
  RecvFlag,
  SendFlag,
  globalRegistration,
  quicer,
  type ConnectionCallbacks,
  type Process,
  type QuicStrm,
  type RecvDataProps,
  type TransportShutdownProps,
} from '../src/index.js';
import { ECHO_ALPN } from './echo-server.js';

/** What the client connection process keeps. */
export interface EchoClientState {
  /** Who gets `['echo', bytes]` or `['echo_failed', reason]`. */
  replyTo: Process;
  message: Uint8Array;
  received: Uint8Array[];
}

/** The client's connection callback module. */
export const echoClientConnection: ConnectionCallbacks<EchoClientState> = {
  /** conn_opts arrive here with `conn` and `stream_opts` added; `reply_to` and `message` are ours. */
  init(opts) {
    return ['ok', { replyTo: opts.reply_to as Process, message: opts.message as Uint8Array, received: [] }];
  },

  /** The handshake is done: open a stream owned by this process and send the message with FIN. */
  connected(conn, _props, state) {
    const started = quicer.startStream(conn, { active: true });
    if (started[0] !== 'ok') return ['stop', ['start_stream', started[1]], state];
    quicer.asyncSend(started[1], state.message, SendFlag.FIN);
    return ['ok', state];
  },

  /** The echo arrives as `['quic', Bin, Stream, Props]`; the FIN flag marks its end. */
  handleInfo(info, state) {
    if (Array.isArray(info) && info[0] === 'quic' && info[1] instanceof Uint8Array) {
      const stream = info[2] as QuicStrm;
      const props = info[3] as RecvDataProps;
      state.received.push(info[1]);
      if (props.flags & RecvFlag.FIN) {
        state.replyTo.send(['echo', Buffer.concat(state.received)]);
        quicer.asyncShutdownConnection(stream.conn);
      }
    }
    return ['ok', state];
  },

  /** The connection failed (no ALPN overlap, idle timeout, …): report it. */
  transportShutdown(_conn, props: TransportShutdownProps, state) {
    state.replyTo.send(['echo_failed', props]);
    return ['ok', state];
  },

  closed: (_conn, _props, state) => ['stop', 'normal', state],
};

/** Sends `message` to the echo server at `host:port` and resolves with what came back. */
export async function echo(host: string, port: number, message: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
  const inbox = new Inbox();
  const connOpts = { alpn: [ECHO_ALPN], verify: 'none', reply_to: inbox, message };
  const started = await QuicConnection.startLink(echoClientConnection, [host, port], [connOpts, {}]);
  if (started[0] !== 'ok') throw new Error(`start_link failed: ${String(started[1])}`);
  const m = await inbox.receive<readonly [string, unknown]>((x) => Array.isArray(x) && (x[0] === 'echo' || x[0] === 'echo_failed'), timeoutMs);
  if (m[0] === 'echo_failed') throw new Error(`connection failed: ${JSON.stringify(m[1])}`);
  return m[1] as Uint8Array;
}

async function main(): Promise<void> {
  const [host = '127.0.0.1', portText = '4433', ...words] = process.argv.slice(2);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`usage: echo-client [host] [port] [message...]  (bad port ${portText})`);
    process.exit(2);
  }
  const text = words.length > 0 ? words.join(' ') : 'hello quicer';
  try {
    const answer = await echo(host, port, new TextEncoder().encode(text));
    console.log(`echo: ${new TextDecoder().decode(answer)}`);
  } catch (e) {
    console.error(`echo-client: ${(e as Error).message}`);
    process.exitCode = 1;
  }
  await globalRegistration.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
