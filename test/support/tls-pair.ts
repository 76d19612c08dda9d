/**
 * Test support for the TLS engine: a scripted CryptoBackend (fixed randomness, key shares and
 * signatures, for reproducing RFC 8448 traces), RFC 8448 vector loading, and an in-memory
 * pump that carries handshake bytes between a client and a server engine by level.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CryptoBackend, KeyExchangeGroup } from '../../src/crypto/backend.js';
import { QuicError } from '../../src/transport/errors.js';
import { equalBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { verifyPeerCertificates } from '../../src/tls/engine.js';
import { createTlsClient, type TlsClient } from '../../src/tls/client.js';
import { createTlsServer, type TlsServer } from '../../src/tls/server.js';
import type {
  CertificateVerdict,
  EncryptionLevel,
  PeerCertificatesEvent,
  TlsClientConfig,
  TlsEvent,
  TlsServerConfig,
} from '../../src/tls/types.js';

/** Loads a vector file from /work/shared/vectors as a record of strings (and nested records). */
export function loadVectors(name: string): Record<string, string> & { server_rsa_key?: Record<string, string> } {
  return JSON.parse(readFileSync(new URL(`../../../shared/vectors/${name}`, import.meta.url), 'utf8'));
}

export interface CryptoScript {
  /** Successive randomFill outputs (lengths must match the calls). */
  random?: Uint8Array[];
  /** Successive generateKeyShare results, as private keys. */
  keyShares?: { group: KeyExchangeGroup; privateKey: Uint8Array }[];
  /** Signatures to return when asked to sign exactly `content` (for RSA-PSS, whose salt is random). */
  signatures?: { content: Uint8Array; signature: Uint8Array }[];
}

/**
 * A backend that behaves like `base` except that randomness, ephemeral key shares and (listed)
 * signatures come from the script. An unscripted randomFill or key share throws, so a test
 * notices any extra draw.
 */
export function scriptedCrypto(base: CryptoBackend, script: CryptoScript): CryptoBackend & { remaining(): number } {
  const random = [...(script.random ?? [])];
  const shares = [...(script.keyShares ?? [])];
  const signatures = script.signatures ?? [];
  return {
    ...base,
    name: `${base.name} (scripted)`,
    randomFill(out: Uint8Array): void {
      const next = random.shift();
      if (next === undefined || next.length !== out.length) throw new Error(`unscripted randomFill of ${out.length} bytes`);
      out.set(next);
    },
    generateKeyShare(group: KeyExchangeGroup) {
      const next = shares.shift();
      if (next === undefined || next.group !== group) throw new Error(`unscripted key share for ${group}`);
      return base.keyShareFromPrivateKey(group, next.privateKey);
    },
    createSigner(pkcs8: Uint8Array) {
      const real = base.createSigner(pkcs8);
      return {
        schemes: real.schemes,
        sign(scheme: number, message: Uint8Array): Uint8Array {
          const s = signatures.find((x) => equalBytes(x.content, message));
          if (s === undefined) throw new Error(`unscripted signature over ${toHex(message).slice(0, 64)}…`);
          return s.signature;
        },
      };
    },
    remaining: () => random.length + shares.length,
  };
}

/** The RFC 8448 server RSA key as PKCS#8 DER. */
export function rfc8448RsaKey(): Uint8Array {
  const k = loadVectors('rfc8448-simple-1rtt.json').server_rsa_key!;
  const b64 = (hex: string) => Buffer.from(fromHex(hex)).toString('base64url');
  const key = createPrivateKey({
    key: {
      kty: 'RSA',
      n: b64(k.modulus!),
      e: b64(k.public_exponent!),
      d: b64(k.private_exponent!),
      p: b64(k.prime1!),
      q: b64(k.prime2!),
      dp: b64(k.exponent1!),
      dq: b64(k.exponent2!),
      qi: b64(k.coefficient!),
    },
    format: 'jwk',
  });
  return new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
}

/** Drains every pending output of an engine. */
export function drainOutput(engine: TlsClient | TlsServer): { level: EncryptionLevel; data: Uint8Array }[] {
  const out: { level: EncryptionLevel; data: Uint8Array }[] = [];
  for (let o = engine.pollOutput(); o !== undefined; o = engine.pollOutput()) out.push(o);
  return out;
}

/** Drains every pending event of an engine. */
export function drainEvents(engine: TlsClient | TlsServer): TlsEvent[] {
  const out: TlsEvent[] = [];
  for (let e = engine.pollEvent(); e !== undefined; e = engine.pollEvent()) out.push(e);
  return out;
}

/** Secrets from events, keyed `level/direction`, hex. */
export function secretsOf(events: readonly TlsEvent[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of events) if (e.type === 'secret') m.set(`${e.level}/${e.direction}`, toHex(e.secret));
  return m;
}

export type Side = 'client' | 'server';

export interface PumpOptions {
  /** Rewrites bytes in flight (for tampering tests). */
  tamper?: (from: Side, level: EncryptionLevel, data: Uint8Array) => Uint8Array;
  /** Verdict for `verification: 'custom'` events. */
  verdict?: (side: Side, event: PeerCertificatesEvent) => CertificateVerdict;
}

/** Carries bytes between a client and a server until both are quiet; records events and the first failure. */
export class TlsPair {
  readonly clientEvents: TlsEvent[] = [];
  readonly serverEvents: TlsEvent[] = [];
  failure: { side: Side; error: QuicError } | undefined;

  constructor(
    readonly client: TlsClient,
    readonly server: TlsServer,
    public now = 1_750_000_000_000,
  ) {}

  private fail(side: Side, e: unknown): void {
    if (!(e instanceof QuicError)) throw e;
    this.failure ??= { side, error: e };
  }

  /** Starts the client (if not started yet) and runs the exchange to quiescence. */
  async run(options: PumpOptions = {}, start = true): Promise<void> {
    if (start) this.client.start(this.now);
    let progressed = true;
    while (progressed && this.failure === undefined) {
      progressed = false;
      for (const [from, src, dst] of [
        ['client', this.client, this.server],
        ['server', this.server, this.client],
      ] as const) {
        for (let o = src.pollOutput(); o !== undefined && this.failure === undefined; o = src.pollOutput()) {
          const data = options.tamper ? options.tamper(from, o.level, o.data) : o.data;
          try {
            dst.receive(o.level, data, this.now);
          } catch (e) {
            this.fail(from === 'client' ? 'server' : 'client', e);
          }
          progressed = true;
        }
      }
      for (const [side, engine, log] of [
        ['client', this.client, this.clientEvents],
        ['server', this.server, this.serverEvents],
      ] as const) {
        for (let e = engine.pollEvent(); e !== undefined; e = engine.pollEvent()) {
          log.push(e);
          progressed = true;
          if (e.type !== 'peerCertificates' || !e.awaitingVerdict || this.failure !== undefined) continue;
          try {
            if (e.verification === 'builtin') await verifyPeerCertificates(engine, e);
            else engine.completeCertificateVerification(options.verdict ? options.verdict(side, e) : { ok: true }, this.now);
          } catch (err) {
            this.fail(side, err);
          }
        }
      }
    }
  }

  /** Event of a type from one side (the last one). */
  last<T extends TlsEvent['type']>(side: Side, type: T): Extract<TlsEvent, { type: T }> | undefined {
    const log = side === 'client' ? this.clientEvents : this.serverEvents;
    for (let i = log.length - 1; i >= 0; i--) if (log[i]!.type === type) return log[i] as Extract<TlsEvent, { type: T }>;
    return undefined;
  }

  /** Secrets of each side, keyed `level/direction`. */
  secrets(side: Side): Map<string, string> {
    return secretsOf(side === 'client' ? this.clientEvents : this.serverEvents);
  }
}

/** Transport parameter bytes the QUIC-profile pairs carry (opaque to TLS). */
export const CLIENT_TP = Uint8Array.of(0x01, 0x02, 0x40, 0x64, 0x0f, 0x04, 0xc1, 0x1e, 0x47, 0x01);
export const SERVER_TP = Uint8Array.of(0x01, 0x02, 0x40, 0x80, 0x00, 0x08, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08);

/** A certificate chain with the leaf's key and the trust anchor that validates it. */
export interface TestIdentity {
  readonly chain: Uint8Array[];
  readonly privateKey: Uint8Array;
  readonly trusted: Uint8Array[];
}

/**
 * A QUIC-profile client/server pair for `identity` (server name `localhost`, ALPN h3, the
 * transport parameters above, built-in chain verification), with config overrides.
 */
export function quicPair(
  identity: TestIdentity,
  overrides: { client?: Partial<TlsClientConfig>; server?: Partial<TlsServerConfig> } = {},
  now = 1_750_000_000_000,
): TlsPair {
  const client = createTlsClient({
    alpn: ['h3'],
    transportParameters: CLIENT_TP,
    serverName: 'localhost',
    trustedCertificates: identity.trusted,
    ...overrides.client,
  });
  const server = createTlsServer({
    alpn: ['h3'],
    transportParameters: SERVER_TP,
    credentials: { certificateChain: identity.chain, privateKey: identity.privateKey },
    ...overrides.server,
  });
  return new TlsPair(client, server, now);
}

/** Describes how a completed pair disagrees (secrets, ALPN, transport parameters, exporter), or [] when it does not. */
export function pairMismatches(pair: TlsPair): string[] {
  const problems: string[] = [];
  if (pair.failure) return [`failed on the ${pair.failure.side} side: ${pair.failure.error.message}`];
  const c = pair.secrets('client');
  const s = pair.secrets('server');
  for (const level of ['zeroRtt', 'handshake', 'oneRtt']) {
    for (const [mine, theirs] of [
      ['write', 'read'],
      ['read', 'write'],
    ]) {
      // 0-RTT keys only go from client to server, and only when the server accepted them.
      if (level === 'zeroRtt' && (mine === 'read' || s.get('zeroRtt/read') === undefined)) continue;
      const a = c.get(`${level}/${mine}`);
      const b = s.get(`${level}/${theirs}`);
      if (a === undefined || a !== b) problems.push(`${level}: client ${mine} ${a} vs server ${theirs} ${b}`);
    }
  }
  const cd = pair.last('client', 'handshakeComplete');
  const sd = pair.last('server', 'handshakeComplete');
  if (!cd || !sd) problems.push('handshake not complete on both sides');
  else if (cd.alpn !== sd.alpn) problems.push(`ALPN ${cd.alpn} vs ${sd.alpn}`);
  const ctp = pair.last('client', 'peerTransportParameters');
  const stp = pair.last('server', 'peerTransportParameters');
  if (!ctp || !equalBytes(ctp.data, SERVER_TP)) problems.push('client did not see the server transport parameters');
  if (!stp || !equalBytes(stp.data, CLIENT_TP)) problems.push('server did not see the client transport parameters');
  const ce = toHex(pair.client.exportKeyingMaterial('EXPORTER-test', Uint8Array.of(1), 32));
  const se = toHex(pair.server.exportKeyingMaterial('EXPORTER-test', Uint8Array.of(1), 32));
  if (ce !== se) problems.push('exporters differ');
  return problems;
}
