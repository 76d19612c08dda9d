/**
 * The client side shared by `perf` and `hq-interop`: one request per bidirectional stream, the
 * response is the stream's bytes up to the FIN, fed to a `BodySink`.
 */
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import type { ConnectionEvent } from '../transport/events.js';
import type { BodySink } from './body-sink.js';
import { ConnectionClosedError, type ConnectionApp, type TransferResult } from './connection-app.js';
import { ReadOutcome, readAvailable, type ByteConsumer } from './stream-read.js';

interface Pending {
  what: string;
  sink: BodySink;
  started: number;
  uploaded: number;
  resolve: (r: TransferResult) => void;
  reject: (e: Error) => void;
}

/** Runs raw request/response streams on a client connection (it takes over the connection's events). */
export class RawDownloads implements ConnectionApp, ByteConsumer {
  private readonly pending = new Map<number, Pending>();

  constructor(readonly ec: EndpointConnection) {
    ec.setEventHandler((e) => this.onEvent(e));
  }

  /** Opens a stream, sends `request` and the FIN, and collects the response into `sink`. */
  request(what: string, request: Uint8Array | readonly Uint8Array[], uploaded: number, sink: BodySink): Promise<TransferResult> {
    return new Promise((resolve, reject) => {
      const id = this.ec.openStream(true);
      if (id === undefined) {
        reject(new Error('the server allows no more streams'));
        return;
      }
      this.pending.set(id, { what, sink, started: performance.now(), uploaded, resolve, reject });
      const parts = request instanceof Uint8Array ? [request] : request;
      if (parts.length === 0) this.ec.write(id, new Uint8Array(0), true);
      parts.forEach((p, i) => this.ec.write(id, p, i === parts.length - 1));
    });
  }

  consume(streamId: number, data: Uint8Array): void {
    this.pending.get(streamId)?.sink.write(data);
  }

  onEvent(e: ConnectionEvent): void {
    switch (e.type) {
      case 'streamReadable': {
        const p = this.pending.get(e.streamId);
        if (p === undefined) return;
        const outcome = readAvailable(this.ec, e.streamId, this);
        if (outcome === ReadOutcome.Finished) {
          this.pending.delete(e.streamId);
          const seconds = (performance.now() - p.started) / 1000;
          p.resolve({ what: p.what, seconds, uploaded: p.uploaded, ...p.sink.finish() });
        }
        return;
      }
      case 'streamReset': {
        const p = this.pending.get(e.streamId);
        if (p === undefined) return;
        this.pending.delete(e.streamId);
        p.sink.finish();
        p.reject(new Error(`${p.what}: the server reset the stream with error 0x${e.errorCode.toString(16)}`));
        return;
      }
      case 'closed':
        for (const [id, p] of this.pending) {
          this.pending.delete(id);
          p.sink.finish();
          p.reject(new ConnectionClosedError(e.info));
        }
        return;
      default:
        return;
    }
  }
}
