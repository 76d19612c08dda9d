/**
 * An echo client written the way a quicer user writes one: a `quicer_connection` callback
 * module (`echoClientConnection`) started with `QuicConnection.startLink`, and a
 * `quicer_stream` callback module (`echoReplyStream`) for the stream that
 * `QuicConnection.streamSend` opens: it collects the echo and reports it to the caller.
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
  quicer,
  type ConnectionCallbacks,
  type LocalStreamState,
  type Process,
  type StreamCallbacks,
  type TransportShutdownProps,
} from '../src/index.js';
import { ECHO_ALPN } from './echo-server.js';

/** What the client connection process keeps: who to tell when the connection fails. */
export interface EchoClientState {
  replyTo: Process;
}

/** The client's connection callback module. */
export const echoClientConnection: ConnectionCallbacks<EchoClientState> = {
  /** conn_opts arrive here with `conn` and `stream_opts` added; `reply_to` is ours. */
  init: (opts) => ['ok', { replyTo: opts.reply_to as Process }],

  /** The connection failed (no ALPN in common, idle timeout, …): report it. */
  transportShutdown(_conn, props: TransportShutdownProps, state) {
    state.replyTo.send(['echo_failed', props]);
    return ['ok', state];
  },

  closed: (_conn, _props, state) => ['stop', 'normal', state],
};

/**
 * The state of the stream process `streamSend` starts: quicer's preset for a local stream
 * (`conn`, `is_owner`, `is_local`, `is_unidir`, `stream_opts`) and the chunks received so far.
 */
export type EchoReplyState = LocalStreamState & { received?: Uint8Array[] };

/** The stream callback module: collects the echo and sends it to `stream_opts.reply_to` at its FIN. */
export const echoReplyStream: StreamCallbacks<EchoReplyState> = {
  handleStreamData(_stream, data, props, state) {
    const received = [...(state.received ?? []), data];
    if (props.flags & RecvFlag.FIN) (state.stream_opts.reply_to as Process).send(['echo', Buffer.concat(received)]);
    return ['ok', { ...state, received }];
  },
};

/** Sends `message` to the echo server at `host:port` and resolves with what came back. */
export async function echo(host: string, port: number, message: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
  const inbox = new Inbox();
  const connOpts = { alpn: [ECHO_ALPN], verify: 'none', reply_to: inbox };
  const started = await QuicConnection.startLink(echoClientConnection, [host, port], [connOpts, {}]);
  if (started[0] !== 'ok') throw new Error(`start_link failed: ${String(started[1])}`);
  const proc = started[1];
  try {
    // A new stream, owned by a new echoReplyStream process linked to the connection process.
    const sent = await QuicConnection.streamSend(proc, echoReplyStream, message, SendFlag.FIN, { reply_to: inbox }, timeoutMs);
    if (sent[0] !== 'ok') throw new Error(`stream_send failed: ${JSON.stringify(sent.slice(1))}`);
    const m = await inbox.receive<readonly [string, unknown]>((x) => Array.isArray(x) && (x[0] === 'echo' || x[0] === 'echo_failed'), timeoutMs);
    if (m[0] === 'echo_failed') throw new Error(`connection failed: ${JSON.stringify(m[1])}`);
    return m[1] as Uint8Array;
  } finally {
    // Close (application error 0) without waiting; the connection process stops at `closed`.
    const conn = await QuicConnection.getHandle(proc).catch(() => undefined);
    if (conn !== undefined) quicer.asyncShutdownConnection(conn);
  }
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
  // Nothing to close: the shared client socket stops holding the process once the connection is gone.
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
