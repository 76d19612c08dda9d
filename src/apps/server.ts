/**
 * Serving the application protocols on a server endpoint: each accepted connection gets the
 * protocol its negotiated ALPN names (`perf`, `hq-interop`, `h3`). Events that arrive before
 * the handshake completes (0-RTT streams) are held and replayed to the protocol.
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { QuicEndpoint } from '../endpoint/udp-endpoint.js';
import type { ConnectionEvent } from '../transport/events.js';
import { describeClose, type AppLog, type ConnectionApp } from './connection-app.js';
import type { ContentOptions } from './content.js';
import { h3ErrorName } from './h3-constants.js';
import { H3_ALPN } from './h3-connection.js';
import { H3ServerConnection } from './h3-server.js';
import { HQ_INTEROP_ALPN, HqInteropServer } from './hq-interop.js';
import { PERF_ALPN, PerfServer } from './perf.js';

/** Every ALPN purequic serves, in preference order. */
export const SUPPORTED_ALPNS: readonly string[] = [PERF_ALPN, HQ_INTEROP_ALPN, H3_ALPN];

/** What a server needs to answer requests. */
export interface ServeOptions extends ContentOptions {
  /** Where to report connections and requests (default: nowhere). */
  log?: AppLog;
}

/** The protocol object for an ALPN, or undefined for one purequic does not speak. */
export function createServerApp(alpn: string | undefined, ec: EndpointConnection, options: ServeOptions = {}): ConnectionApp | undefined {
  const log = options.log ?? (() => {});
  switch (alpn) {
    case PERF_ALPN:
      return new PerfServer(ec, log);
    case HQ_INTEROP_ALPN:
      return new HqInteropServer(ec, options, log);
    case H3_ALPN: {
      const h3 = new H3ServerConnection(ec, options, log);
      h3.start();
      return h3;
    }
    default:
      return undefined;
  }
}

/** Runs the protocol of `ec`'s ALPN on it once the handshake completes. */
export function serveConnection(ec: EndpointConnection, options: ServeOptions = {}): void {
  const log = options.log ?? (() => {});
  const held: ConnectionEvent[] = [];
  let app: ConnectionApp | undefined;
  const peer = `${ec.remoteAddress.address}:${ec.remoteAddress.port}`;
  ec.setEventHandler((e) => {
    if (app !== undefined) {
      app.onEvent(e);
      if (e.type === 'closed') log(`${peer}: closed (${describeClose(e.info, h3ErrorName)})`);
      else if (e.type === 'peerAddressChanged') log(`${peer}: peer address is now ${e.address.address}:${e.address.port}`);
      return;
    }
    if (e.type === 'handshakeCompleted') {
      app = createServerApp(e.alpn, ec, options);
      if (app === undefined) {
        log(`${peer}: no protocol for ALPN ${String(e.alpn)}`);
        ec.close(0, 'unsupported ALPN');
        return;
      }
      log(`${peer}: connected, ALPN ${e.alpn}, ${e.cipherSuite}${e.resumed ? `, resumed, 0-RTT ${e.earlyData}` : ''}`);
      for (const h of held.splice(0)) app.onEvent(h);
      return;
    }
    if (e.type === 'closed') {
      log(`${peer}: closed before the handshake completed (${describeClose(e.info)})`);
      return;
    }
    held.push(e);
  });
}

/** Serves every connection `endpoint` accepts. */
export function serveEndpoint(endpoint: QuicEndpoint, options: ServeOptions = {}): void {
  endpoint.onConnection = (ec) => serveConnection(ec, options);
}
