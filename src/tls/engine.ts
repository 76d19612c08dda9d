/**
 * The machinery shared by the TLS client and server: per-level input buffering and message
 * framing, the output and event queues, failure latching, the certificate-verdict suspension,
 * secret emission with key logging, and the exporter. Subclasses implement the handshake
 * state machine in `handleMessage`.
 */
import type { CryptoBackend, Signer } from '../crypto/backend.js';
import { defaultCrypto } from '../crypto/index.js';
import { QuicError, TransportError } from '../transport/errors.js';
import { TlsAlert } from './alerts.js';
import { leafSignatureVerifier, verifyCertificateChain } from './certificates.js';
import type { CipherSuite } from './cipher-suites.js';
import { exportKeyingMaterial } from './key-schedule.js';
import { keyLogLine, type KeyLogLabel } from './keylog.js';
import type { CertificateVerify } from './messages.js';
import type {
  CertificateVerdict,
  EncryptionLevel,
  PeerCertificatesEvent,
  TlsCommonConfig,
  TlsEvent,
  TlsOutput,
} from './types.js';

/** Largest handshake message accepted (a long certificate chain fits comfortably). */
const MAX_MESSAGE = 1 << 18;

const LEVELS: readonly EncryptionLevel[] = ['initial', 'zeroRtt', 'handshake', 'oneRtt'];

function levelIndex(level: EncryptionLevel): number {
  switch (level) {
    case 'initial':
      return 0;
    case 'zeroRtt':
      return 1;
    case 'handshake':
      return 2;
    case 'oneRtt':
      return 3;
    default:
      throw new TypeError(`unknown encryption level ${JSON.stringify(level)}`);
  }
}

/** Received bytes of one level not yet consumed as whole messages. */
class InputBuffer {
  buf = new Uint8Array(0);
  start = 0;
  end = 0;

  get pending(): number {
    return this.end - this.start;
  }

  append(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n === 0) return;
    if (this.end + n > this.buf.length) {
      const live = this.end - this.start;
      if (live + n <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = Math.max(1024, this.buf.length * 2);
        while (cap < live + n) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(bytes, this.end);
    this.end += n;
  }

  /** The next whole message as a view (valid until the next append), or undefined. */
  next(): Uint8Array | undefined {
    const avail = this.end - this.start;
    if (avail < 4) return undefined;
    const b = this.buf;
    const s = this.start;
    const len = (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!;
    if (len > MAX_MESSAGE) {
      throw new QuicError(TransportError.CRYPTO_BUFFER_EXCEEDED, `handshake message of ${len} bytes exceeds ${MAX_MESSAGE}`);
    }
    if (avail < 4 + len) return undefined;
    this.start = s + 4 + len;
    if (this.start === this.end) this.start = this.end = 0;
    return b.subarray(s, s + 4 + len);
  }
}

const signerCache = new WeakMap<CryptoBackend, WeakMap<Uint8Array, Signer>>();

/** A signer for a PKCS#8 key, created once per key object and backend. */
export function cachedSigner(crypto: CryptoBackend, pkcs8: Uint8Array): Signer {
  let m = signerCache.get(crypto);
  if (m === undefined) signerCache.set(crypto, (m = new WeakMap()));
  let s = m.get(pkcs8);
  if (s === undefined) m.set(pkcs8, (s = crypto.createSigner(pkcs8)));
  return s;
}

const SPACES = new Uint8Array(64).fill(0x20);
const SERVER_CV_CONTEXT = new TextEncoder().encode('TLS 1.3, server CertificateVerify');
const CLIENT_CV_CONTEXT = new TextEncoder().encode('TLS 1.3, client CertificateVerify');

/** The content a CertificateVerify signs (RFC 8446 §4.4.3). */
export function certificateVerifyContent(side: 'server' | 'client', transcriptHash: Uint8Array): Uint8Array {
  const ctx = side === 'server' ? SERVER_CV_CONTEXT : CLIENT_CV_CONTEXT;
  const out = new Uint8Array(64 + ctx.length + 1 + transcriptHash.length);
  out.set(SPACES, 0);
  out.set(ctx, 64);
  out.set(transcriptHash, 64 + ctx.length + 1);
  return out;
}

function asQuicError(e: unknown): QuicError {
  return e instanceof QuicError ? e : QuicError.fromAlert(TlsAlert.internal_error, `internal error: ${(e as Error)?.message ?? String(e)}`);
}

/** Throws the TLS alert `alert` as a QuicError. */
export function fail(alert: number, reason: string): never {
  throw QuicError.fromAlert(alert, reason);
}

/** Base of `TlsClient` and `TlsServer`: the driver API the QUIC connection uses. */
export abstract class TlsEngine {
  protected readonly crypto: CryptoBackend;
  protected readonly quic: boolean;
  private readonly keyLog: ((line: string) => void) | undefined;

  private readonly inputs = [new InputBuffer(), new InputBuffer(), new InputBuffer(), new InputBuffer()];
  private readonly outputs: TlsOutput[] = [];
  private outHead = 0;
  private readonly events: TlsEvent[] = [];
  private eventHead = 0;
  private failure: QuicError | undefined;

  /** The level handshake bytes are expected at now. */
  protected readLevel: EncryptionLevel = 'initial';
  /** Set while a certificate verdict is outstanding: received bytes are only buffered. */
  protected awaitingVerdict = false;
  /** `now` of the call being processed (ms). */
  protected now = 0;
  protected suite: CipherSuite | undefined;
  protected clientRandom: Uint8Array = new Uint8Array(32);
  private exporterSecret: Uint8Array | undefined;

  protected constructor(config: TlsCommonConfig) {
    this.crypto = config.crypto ?? defaultCrypto;
    this.quic = config.quic ?? true;
    this.keyLog = config.keyLog;
  }

  /** Handles one whole handshake message (`raw` includes the 4-byte header) received at `level`. */
  protected abstract handleMessage(type: number, body: Uint8Array, raw: Uint8Array, level: EncryptionLevel): void;

  /** Continues the handshake after a positive certificate verdict. */
  protected abstract resumeAfterVerdict(): void;

  /**
   * The peer's CertificateVerify (RFC 8446 §4.4.3) proves it holds the key of `chain`'s leaf:
   * the scheme must fit that key (illegal_parameter) and the signature must cover
   * `transcriptHash` (decrypt_error). The chain then goes out in a `peerCertificates` event;
   * unless `verify` is 'none', it carries the built-in check's inputs and the handshake waits
   * for the verdict (`completeCertificateVerification`). The caller checked that the scheme
   * was one it offered.
   */
  protected acceptPeerProof(
    peer: 'server' | 'client',
    chain: readonly Uint8Array[],
    cv: CertificateVerify,
    transcriptHash: Uint8Array,
    verify: 'none' | 'builtin' | 'custom',
    check: { readonly trusted: readonly Uint8Array[]; readonly serverName: string | undefined },
  ): void {
    const verifier = leafSignatureVerifier(chain[0]!, this.crypto);
    if (!verifier.schemes.includes(cv.scheme)) fail(TlsAlert.illegal_parameter, `scheme 0x${cv.scheme.toString(16)} does not match the certificate key`);
    if (!verifier.verify(cv.scheme, certificateVerifyContent(peer, transcriptHash), cv.signature)) {
      fail(TlsAlert.decrypt_error, `${peer} CertificateVerify signature is invalid`);
    }
    const awaiting = verify !== 'none';
    this.emit({
      type: 'peerCertificates',
      chain,
      verification: verify,
      awaitingVerdict: awaiting,
      request: awaiting ? { trusted: check.trusted, serverName: check.serverName, now: this.now, purpose: peer } : undefined,
    });
    this.awaitingVerdict = awaiting;
  }

  /**
   * In-order CRYPTO stream bytes of one level (any split: partial messages, several messages).
   * Throws QuicError (a TLS alert as CRYPTO_ERROR, or a transport error) when the handshake
   * fails; every later call throws the same error.
   */
  receive(level: EncryptionLevel, bytes: Uint8Array, now: number): void {
    const i = levelIndex(level);
    if (this.failure !== undefined) throw this.failure;
    this.now = now;
    if (bytes.length === 0) return;
    this.guard(() => {
      if (!this.awaitingVerdict && level !== this.readLevel) this.wrongLevel(level);
      this.inputs[i]!.append(bytes);
      this.drain();
    });
  }

  /** The next handshake bytes to send, in order, or undefined. Consecutive bytes of one level come as one chunk. */
  pollOutput(): TlsOutput | undefined {
    const q = this.outputs;
    if (this.outHead >= q.length) return undefined;
    const first = q[this.outHead++]!;
    let end = this.outHead;
    while (end < q.length && q[end]!.level === first.level) end++;
    let out = first;
    if (end > this.outHead) {
      let n = first.data.length;
      for (let k = this.outHead; k < end; k++) n += q[k]!.data.length;
      const data = new Uint8Array(n);
      data.set(first.data, 0);
      let o = first.data.length;
      for (let k = this.outHead; k < end; k++) {
        data.set(q[k]!.data, o);
        o += q[k]!.data.length;
      }
      out = { level: first.level, data };
      this.outHead = end;
    }
    if (this.outHead === q.length) {
      q.length = 0;
      this.outHead = 0;
    }
    return out;
  }

  /** The next event, or undefined. */
  pollEvent(): TlsEvent | undefined {
    const q = this.events;
    if (this.eventHead >= q.length) return undefined;
    const e = q[this.eventHead++]!;
    if (this.eventHead === q.length) {
      q.length = 0;
      this.eventHead = 0;
    }
    return e;
  }

  /**
   * Answers a `peerCertificates` event that is awaiting a verdict. A rejection fails the
   * handshake with the verdict's alert (thrown as QuicError); acceptance resumes processing of
   * the bytes buffered meanwhile (which may also throw). Throws TypeError when no verdict is
   * awaited.
   */
  completeCertificateVerification(verdict: CertificateVerdict, now: number = this.now): void {
    if (this.failure !== undefined) throw this.failure;
    if (!this.awaitingVerdict) throw new TypeError('completeCertificateVerification: no certificate verification is pending');
    if (!verdict.ok && (!Number.isInteger(verdict.alert) || verdict.alert < 1 || verdict.alert > 255)) {
      throw new TypeError(`completeCertificateVerification: alert ${String(verdict.alert)} is not a TLS alert code`);
    }
    this.now = now;
    this.guard(() => {
      this.awaitingVerdict = false;
      if (!verdict.ok) fail(verdict.alert, verdict.reason ?? 'peer certificate rejected');
      this.resumeAfterVerdict();
      this.drain();
    });
  }

  /** The error the handshake failed with, if it did. */
  get error(): QuicError | undefined {
    return this.failure;
  }

  /** True while a certificate verdict is outstanding. */
  get isAwaitingCertificateVerdict(): boolean {
    return this.awaitingVerdict;
  }

  /**
   * TLS-Exporter (RFC 8446 §7.5), available once the exporter master secret is known (server:
   * after sending Finished; client: after receiving the server's Finished). Throws TypeError
   * before that.
   */
  exportKeyingMaterial(label: string, context: Uint8Array, length: number): Uint8Array {
    if (this.exporterSecret === undefined || this.suite === undefined) {
      throw new TypeError('exportKeyingMaterial: the exporter secret is not available yet');
    }
    return exportKeyingMaterial(this.crypto, this.suite.hash, this.exporterSecret, label, context, length);
  }

  // ----- for subclasses ------------------------------------------------------------------

  /** Runs processing of network input: any failure is latched and rethrown as a QuicError. */
  protected guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      throw (this.failure = asQuicError(e));
    }
  }

  /**
   * Runs a local action (e.g. composing the ClientHello): an exception propagates unchanged
   * (a TypeError from a misbehaving hook stays a TypeError) but still fails the engine.
   */
  protected local(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failure = asQuicError(e);
      throw e;
    }
  }

  private wrongLevel(level: EncryptionLevel): never {
    if (this.quic && level === 'zeroRtt') {
      throw new QuicError(TransportError.PROTOCOL_VIOLATION, 'CRYPTO data in a 0-RTT packet');
    }
    fail(TlsAlert.unexpected_message, `handshake data at ${level} level while expecting ${this.readLevel}`);
  }

  private drain(): void {
    while (!this.awaitingVerdict) {
      const level = this.readLevel;
      const input = this.inputs[levelIndex(level)]!;
      const msg = input.next();
      if (msg === undefined) break;
      this.handleMessage(msg[0]!, msg.subarray(4), msg, level);
      if (this.readLevel !== level && input.pending > 0) {
        fail(TlsAlert.unexpected_message, `handshake data at ${level} level after a key change`);
      }
    }
    if (this.awaitingVerdict) return;
    for (let i = 0; i < 4; i++) {
      if (LEVELS[i] !== this.readLevel && this.inputs[i]!.pending > 0) this.wrongLevel(LEVELS[i]!);
    }
  }

  protected send(level: EncryptionLevel, data: Uint8Array): void {
    this.outputs.push({ level, data });
  }

  protected emit(event: TlsEvent): void {
    this.events.push(event);
  }

  /** Emits a traffic secret and logs it. */
  protected emitSecret(
    level: Exclude<EncryptionLevel, 'initial'>,
    direction: 'read' | 'write',
    secret: Uint8Array,
    label: KeyLogLabel,
  ): void {
    const suite = this.suite!;
    this.emit({ type: 'secret', level, direction, suite: { aead: suite.aead, hash: suite.hash, hp: suite.hp }, secret });
    this.log(label, secret);
  }

  protected log(label: KeyLogLabel, secret: Uint8Array): void {
    if (this.keyLog !== undefined) this.keyLog(keyLogLine(label, this.clientRandom, secret));
  }

  protected setExporterSecret(secret: Uint8Array): void {
    this.exporterSecret = secret;
    this.log('EXPORTER_SECRET', secret);
  }

  protected unexpected(type: number, state: string): never {
    fail(TlsAlert.unexpected_message, `handshake message type ${type} unexpected in state ${state}`);
  }
}

/**
 * Runs the built-in chain verification a `peerCertificates` event asks for
 * (`verifyCertificateChain` against the configured trust anchors, server name and time) and
 * hands the verdict to the engine. Rejects with the engine's QuicError when the verdict (or
 * the buffered input processed after it) fails the handshake; the driver then closes the
 * connection with that error. Throws TypeError for an event that does not request it.
 */
export async function verifyPeerCertificates(engine: TlsEngine, event: PeerCertificatesEvent): Promise<void> {
  const request = event.request;
  if (!event.awaitingVerdict || event.verification !== 'builtin' || request === undefined) {
    throw new TypeError('verifyPeerCertificates: the event does not request built-in verification');
  }
  const verdict = await verifyCertificateChain(event.chain, {
    trusted: request.trusted,
    now: request.now,
    purpose: request.purpose,
    ...(request.serverName !== undefined ? { serverName: request.serverName } : {}),
  });
  engine.completeCertificateVerification(verdict, request.now);
}
