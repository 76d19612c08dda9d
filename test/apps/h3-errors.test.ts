import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { QuicEndpoint, type EndpointConnection } from '../../src/endpoint/index.js';
import { selfSignedCertificate, type IssuedCertificate } from '../../src/tls/certificate-authority.js';
import type { ConnectionCloseInfo, ConnectionEvent } from '../../src/transport/events.js';
import { serveEndpoint } from '../../src/apps/server.js';
import { H3ClientConnection } from '../../src/apps/h3-client.js';
import { BodySink } from '../../src/apps/body-sink.js';
import { H3ErrorCode, H3FrameType, H3StreamType } from '../../src/apps/h3-constants.js';
import { decodeFieldSection, encodeFieldSection, type HeaderField } from '../../src/apps/qpack.js';
import { H3FrameReader, encodeDataFrameHeader, encodeH3Frame, encodeSettings } from '../../src/apps/h3-frames.js';
import { concatBytes, fromHex } from '../../src/util/bytes.js';

let id: IssuedCertificate;
let server: QuicEndpoint;
let client: QuicEndpoint;

beforeAll(async () => {
  id = await selfSignedCertificate({ hosts: ['localhost'], now: Date.now() });
  server = await QuicEndpoint.bind({ host: '127.0.0.1', server: { tls: { alpn: ['h3'], credentials: { certificateChain: [id.certificate], privateKey: id.privateKey } } } });
  serveEndpoint(server);
  client = await QuicEndpoint.bind({ host: '127.0.0.1' });
});

afterAll(async () => {
  await client.close();
  await server.close();
});

const u8 = (...b: number[]) => Uint8Array.from(b);
const SETTINGS = encodeH3Frame(H3FrameType.SETTINGS, encodeSettings([[0x01, 0], [0x07, 0]]));
const GET = (path: string, extra: HeaderField[] = []) =>
  encodeH3Frame(H3FrameType.HEADERS, encodeFieldSection([[':method', 'GET'], [':scheme', 'https'], [':authority', 'localhost'], [':path', path], ...extra]));

/** A hand-driven HTTP/3 client: records events, lets the test write raw bytes. */
async function rawClient(): Promise<{ ec: EndpointConnection; events: ConnectionEvent[] }> {
  const ec = client.connect('127.0.0.1', server.address().port, { tls: { alpn: ['h3'], serverName: 'localhost', verify: 'none' } });
  const events: ConnectionEvent[] = [];
  ec.setEventHandler((e) => {
    events.push(e);
    if (e.type === 'streamReadable') while ((ec.read(e.streamId)?.data.length ?? 0) > 0);
  });
  await ec.handshake();
  return { ec, events };
}

function uni(ec: EndpointConnection, bytes: Uint8Array, fin = false): number {
  const sid = ec.openStream(false)!;
  ec.write(sid, bytes, fin);
  return sid;
}

/** Resolves with how the connection closed, or 'open' if it is still open after `ms`. */
function closeWithin(ec: EndpointConnection, ms = 1500): Promise<ConnectionCloseInfo | 'open'> {
  return Promise.race([ec.closed(), new Promise<'open'>((r) => setTimeout(() => r('open'), ms))]);
}

async function serverClosesWith(setup: (ec: EndpointConnection) => void): Promise<number> {
  const { ec } = await rawClient();
  setup(ec);
  const info = await closeWithin(ec);
  expect(info).not.toBe('open');
  expect((info as ConnectionCloseInfo).source).toBe('peer-application');
  return Number((info as ConnectionCloseInfo).code);
}

describe('HTTP/3 server: connection errors (RFC 9114 §6.2, §7; RFC 9204 §4.2)', () => {
  it('control stream not starting with SETTINGS: H3_MISSING_SETTINGS', async () => {
    expect(await serverClosesWith((ec) => uni(ec, concatBytes(u8(0x00), encodeH3Frame(H3FrameType.GOAWAY, u8(0)))))).toBe(H3ErrorCode.H3_MISSING_SETTINGS);
  });

  it('a second control stream: H3_STREAM_CREATION_ERROR', async () => {
    expect(
      await serverClosesWith((ec) => {
        uni(ec, concatBytes(u8(0x00), SETTINGS));
        uni(ec, concatBytes(u8(0x00), SETTINGS));
      }),
    ).toBe(H3ErrorCode.H3_STREAM_CREATION_ERROR);
  });

  it('SETTINGS twice: H3_FRAME_UNEXPECTED', async () => {
    expect(await serverClosesWith((ec) => uni(ec, concatBytes(u8(0x00), SETTINGS, SETTINGS)))).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('an HTTP/2 setting: H3_SETTINGS_ERROR', async () => {
    expect(await serverClosesWith((ec) => uni(ec, concatBytes(u8(0x00), encodeH3Frame(H3FrameType.SETTINGS, encodeSettings([[0x04, 65535]])))))).toBe(H3ErrorCode.H3_SETTINGS_ERROR);
  });

  it('DATA or an HTTP/2 frame type on the control stream: H3_FRAME_UNEXPECTED', async () => {
    expect(await serverClosesWith((ec) => uni(ec, concatBytes(u8(0x00), SETTINGS, encodeDataFrameHeader(1), u8(0))))).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
    expect(await serverClosesWith((ec) => uni(ec, concatBytes(u8(0x00), SETTINGS, encodeH3Frame(0x02, u8(1)))))).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('closing the control stream: H3_CLOSED_CRITICAL_STREAM', async () => {
    expect(await serverClosesWith((ec) => uni(ec, concatBytes(u8(0x00), SETTINGS), true))).toBe(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM);
  });

  it('a push stream from a client: H3_STREAM_CREATION_ERROR', async () => {
    expect(await serverClosesWith((ec) => uni(ec, u8(H3StreamType.PUSH, 0)))).toBe(H3ErrorCode.H3_STREAM_CREATION_ERROR);
  });

  it('QPACK encoder instructions for a table of capacity 0: QPACK_ENCODER_STREAM_ERROR', async () => {
    // Set Dynamic Table Capacity 100 (001 + 5-bit prefix 31, then 69).
    expect(await serverClosesWith((ec) => uni(ec, u8(H3StreamType.QPACK_ENCODER, 0x3f, 0x45)))).toBe(H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
  });

  it('a Section Acknowledgment on the decoder stream: QPACK_DECODER_STREAM_ERROR', async () => {
    expect(await serverClosesWith((ec) => uni(ec, u8(H3StreamType.QPACK_DECODER, 0x80)))).toBe(H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
  });

  it('DATA before HEADERS on a request stream: H3_FRAME_UNEXPECTED', async () => {
    expect(
      await serverClosesWith((ec) => {
        const s = ec.openStream(true)!;
        ec.write(s, concatBytes(encodeDataFrameHeader(2), u8(1, 2)), true);
      }),
    ).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('a field section referencing the dynamic table: QPACK_DECOMPRESSION_FAILED', async () => {
    expect(
      await serverClosesWith((ec) => {
        const s = ec.openStream(true)!;
        ec.write(s, encodeH3Frame(H3FrameType.HEADERS, fromHex('0200' + '80')), true);
      }),
    ).toBe(H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
  });
});

describe('HTTP/3 server: stream errors and extensibility', () => {
  it('resets a malformed request with H3_MESSAGE_ERROR and keeps serving the connection', async () => {
    const { ec, events } = await rawClient();
    uni(ec, concatBytes(u8(0x00), SETTINGS));
    const bad = ec.openStream(true)!;
    ec.write(bad, GET('/10', [['X-Upper', 'no']]), true);
    const incomplete = ec.openStream(true)!;
    ec.write(incomplete, new Uint8Array(0), true);
    const good = ec.openStream(true)!;
    const chunks: Uint8Array[] = [];
    ec.setEventHandler((e) => {
      events.push(e);
      if (e.type !== 'streamReadable') return;
      for (;;) {
        const r = ec.read(e.streamId);
        if (!r || r.data.length === 0) break;
        if (e.streamId === good) chunks.push(r.data.slice());
      }
    });
    ec.write(good, GET('/5'), true);
    await new Promise((r) => setTimeout(r, 300));
    const resets = events.filter((e) => e.type === 'streamReset') as Array<Extract<ConnectionEvent, { type: 'streamReset' }>>;
    expect(resets.find((e) => e.streamId === bad)?.errorCode).toBe(BigInt(H3ErrorCode.H3_MESSAGE_ERROR));
    expect(resets.find((e) => e.streamId === incomplete)?.errorCode).toBe(BigInt(H3ErrorCode.H3_REQUEST_INCOMPLETE));
    // The good request got HEADERS (200) and 5 bytes of DATA.
    const frames: Array<[number, Uint8Array]> = [];
    const reader = new H3FrameReader({ onFrame: (t, p) => frames.push([t, p]), onDataFrame: () => {}, onData: (d) => frames.push([0, d.slice()]) });
    for (const c of chunks) reader.push(c);
    expect(decodeFieldSection(frames[0]![1])).toContainEqual([':status', '200']);
    expect(frames.filter((f) => f[0] === 0).reduce((a, f) => a + f[1].length, 0)).toBe(5);
    expect(ec.closeInfo).toBeUndefined();
    ec.close();
  });

  it('ignores unknown stream types, unknown frame types and reserved settings', async () => {
    const { ec, events } = await rawClient();
    const grease = 0x1f * 3 + 0x21;
    uni(ec, concatBytes(u8(0x00), encodeH3Frame(H3FrameType.SETTINGS, encodeSettings([[grease, 7]])), encodeH3Frame(grease, u8(1, 2, 3))));
    const unknown = uni(ec, concatBytes(u8(0x40, 0x21), u8(9, 9, 9)));
    const s = ec.openStream(true)!;
    ec.write(s, concatBytes(encodeH3Frame(grease, u8(4)), GET('/3')), true);
    await new Promise((r) => setTimeout(r, 300));
    expect(ec.closeInfo).toBeUndefined();
    // The unknown stream type was answered with STOP_SENDING(H3_STREAM_CREATION_ERROR).
    const stop = events.find((e) => e.type === 'streamStopSending' && e.streamId === unknown) as Extract<ConnectionEvent, { type: 'streamStopSending' }> | undefined;
    expect(stop?.errorCode).toBe(BigInt(H3ErrorCode.H3_STREAM_CREATION_ERROR));
    expect(events.some((e) => e.type === 'streamReadable' && e.streamId === s)).toBe(true);
    ec.close();
  });
});

describe('HTTP/3 client: connection errors', () => {
  /** A server endpoint whose connections run `behave` after the handshake. */
  async function misbehavingServer(behave: (ec: EndpointConnection) => void): Promise<QuicEndpoint> {
    const ep = await QuicEndpoint.bind({ host: '127.0.0.1', server: { tls: { alpn: ['h3'], credentials: { certificateChain: [id.certificate], privateKey: id.privateKey } } } });
    ep.onConnection = (ec) => {
      ec.setEventHandler((e) => {
        if (e.type === 'handshakeCompleted') behave(ec);
      });
    };
    return ep;
  }

  async function clientClosesWith(behave: (ec: EndpointConnection) => void): Promise<number> {
    const ep = await misbehavingServer(behave);
    try {
      const ec = client.connect('127.0.0.1', ep.address().port, { tls: { alpn: ['h3'], serverName: 'localhost', verify: 'none' } });
      await ec.handshake();
      const h3 = new H3ClientConnection(ec, 'localhost');
      const req = h3.get('/1', new BodySink()).catch((e: Error) => e);
      const info = await closeWithin(ec);
      expect(info).not.toBe('open');
      expect((info as ConnectionCloseInfo).source).toBe('application');
      expect(await req).toBeInstanceOf(Error);
      return Number((info as ConnectionCloseInfo).code);
    } finally {
      await ep.close();
    }
  }

  it('a server-initiated bidirectional stream: H3_STREAM_CREATION_ERROR', async () => {
    expect(await clientClosesWith((ec) => ec.write(ec.openStream(true)!, u8(1), false))).toBe(H3ErrorCode.H3_STREAM_CREATION_ERROR);
  });

  it('a push stream the client never allowed: H3_ID_ERROR', async () => {
    expect(await clientClosesWith((ec) => uni(ec, u8(H3StreamType.PUSH, 0, 1, 2)))).toBe(H3ErrorCode.H3_ID_ERROR);
  });

  it('MAX_PUSH_ID from a server: H3_FRAME_UNEXPECTED', async () => {
    expect(await clientClosesWith((ec) => uni(ec, concatBytes(u8(0x00), SETTINGS, encodeH3Frame(H3FrameType.MAX_PUSH_ID, u8(4)))))).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('a response stream with PUSH_PROMISE: H3_ID_ERROR', async () => {
    expect(
      await clientClosesWith((ec) => {
        ec.setEventHandler((e) => {
          if (e.type === 'streamReadable' && (e.streamId & 2) === 0) {
            while ((ec.read(e.streamId)?.data.length ?? 0) > 0);
            ec.write(e.streamId, encodeH3Frame(H3FrameType.PUSH_PROMISE, concatBytes(u8(0), encodeFieldSection([[':method', 'GET']]))), false);
          }
        });
      }),
    ).toBe(H3ErrorCode.H3_ID_ERROR);
  });
});
