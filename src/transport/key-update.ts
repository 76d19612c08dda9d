/**
 * 1-RTT keys with key updates (RFC 9001 §6). Each update derives the next generation's
 * secrets with HKDF-Expand-Label(secret, "quic ku" / "quicv2 ku", "", Hash.length) and new
 * payload keys from them; the header-protection keys never change.
 *
 * The holder keeps, per direction, the current payload keys, and the next generation's
 * prepared ahead so that trying them on a packet costs no key derivation (no timing signal,
 * §6.3). For receiving it also keeps the previous generation until told to drop it, so that
 * packets delayed across an update still open. When to drop the previous keys (≈3×PTO),
 * when an update may be initiated (handshake confirmed, current phase acknowledged) and
 * KEY_UPDATE_ERROR detection belong to the connection.
 */
import type { CryptoBackend } from '../crypto/backend.js';
import { hashLength } from '../crypto/backend.js';
import { hkdfExpandLabel } from '../crypto/hkdf-label.js';
import {
  aeadLimits,
  createHeaderProtector,
  createPayloadProtector,
  protectWith,
  type AeadLimits,
  type HeaderProtector,
  type PacketProtectionSuite,
  type PayloadProtector,
} from './protection.js';
import type { VersionParameters } from './version.js';

/** The KEY_PHASE bit of a short-header first byte (RFC 9000 §17.3.1). */
const KEY_PHASE_BIT = 0x04;

/** The secret of the next key generation (RFC 9001 §6.1). */
export function nextGenerationSecret(
  crypto: CryptoBackend,
  suite: PacketProtectionSuite,
  version: VersionParameters,
  secret: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(crypto, suite.hash, secret, version.keyUpdateLabel, new Uint8Array(0), hashLength(suite.hash));
}

/** Which keys opened the last packet given to `openPayload`. */
export const OpenedWith = {
  None: 0,
  Current: 1,
  /** The next generation: the peer started a key update, and the holder has moved to it. */
  Next: 2,
  Previous: 3,
} as const;
export type OpenedWith = (typeof OpenedWith)[keyof typeof OpenedWith];

/** One generation of payload keys, both directions. */
class Generation {
  constructor(
    readonly sendSecret: Uint8Array,
    readonly receiveSecret: Uint8Array,
    readonly send: PayloadProtector,
    readonly receive: PayloadProtector,
  ) {}
}

/** 1-RTT packet protection for a connection, across key updates. */
export class OneRttProtection {
  readonly sendHeader: HeaderProtector;
  readonly receiveHeader: HeaderProtector;
  readonly limits: AeadLimits;
  private current: Generation;
  private next: Generation;
  private previousReceive: PayloadProtector | undefined;
  private phase: 0 | 1 = 0;
  private generationNumber = 0;
  /** Lowest packet number opened with the current receive keys (Infinity until one is). */
  private lowestInPhase = Number.POSITIVE_INFINITY;
  /** Which keys opened the last packet (or None if it failed). */
  lastOpenedWith: OpenedWith = OpenedWith.None;

  constructor(
    private readonly crypto: CryptoBackend,
    private readonly suite: PacketProtectionSuite,
    private readonly version: VersionParameters,
    sendSecret: Uint8Array,
    receiveSecret: Uint8Array,
  ) {
    this.sendHeader = createHeaderProtector(crypto, suite, version, sendSecret);
    this.receiveHeader = createHeaderProtector(crypto, suite, version, receiveSecret);
    this.limits = aeadLimits(suite.aead);
    this.current = this.makeGeneration(sendSecret, receiveSecret);
    this.next = this.successor(this.current);
  }

  private makeGeneration(sendSecret: Uint8Array, receiveSecret: Uint8Array): Generation {
    return new Generation(
      sendSecret,
      receiveSecret,
      createPayloadProtector(this.crypto, this.suite, this.version, sendSecret),
      createPayloadProtector(this.crypto, this.suite, this.version, receiveSecret),
    );
  }

  private successor(g: Generation): Generation {
    return this.makeGeneration(
      nextGenerationSecret(this.crypto, this.suite, this.version, g.sendSecret),
      nextGenerationSecret(this.crypto, this.suite, this.version, g.receiveSecret),
    );
  }

  /** The key phase bit packets are currently sent with. */
  get keyPhase(): 0 | 1 {
    return this.phase;
  }

  /** Key updates so far (0 for the keys the handshake produced). */
  get generation(): number {
    return this.generationNumber;
  }

  /** Current send keys (their `sealedPackets` counts toward the confidentiality limit). */
  get sendKeys(): PayloadProtector {
    return this.current.send;
  }

  /** Whether the previous generation's receive keys are still kept. */
  get hasPreviousKeys(): boolean {
    return this.previousReceive !== undefined;
  }

  /** Truncated packet number read by the last successful `unprotectHeader`. */
  get truncatedPacketNumber(): number {
    return this.receiveHeader.truncatedPacketNumber;
  }

  /**
   * Protects a short-header packet with the current keys, first setting the KEY_PHASE bit of
   * the first byte to the current phase. Arguments and result as {@link PacketProtection.protect}.
   */
  protect(buf: Uint8Array, headerStart: number, pnOffset: number, pnLength: number, payloadEnd: number, packetNumber: number): number {
    const first = buf[headerStart];
    if (first === undefined) throw new RangeError(`header start ${headerStart} is outside a buffer of ${buf.length} bytes`);
    buf[headerStart] = (first & ~KEY_PHASE_BIT) | (this.phase << 2);
    return protectWith(this.current.send, this.sendHeader, buf, headerStart, pnOffset, pnLength, payloadEnd, packetNumber);
  }

  /** Removes header protection from a received packet; see {@link HeaderProtector.remove}. */
  unprotectHeader(buf: Uint8Array, headerStart: number, pnOffset: number, packetEnd: number): number {
    return this.receiveHeader.remove(buf, headerStart, pnOffset, packetEnd);
  }

  /**
   * Opens a received packet (header already unprotected, full packet number decoded) with the
   * keys its KEY_PHASE bit and packet number select (RFC 9001 §6.3): the current keys for the
   * current phase; for the other phase, the previous keys if the packet is older than
   * everything opened in this phase and they are still kept, otherwise the next keys. Opening
   * with the next keys moves the holder to the next generation (the peer's update; our send
   * keys follow). Returns the plaintext length or -1; `lastOpenedWith` says which keys worked.
   */
  openPayload(buf: Uint8Array, headerStart: number, payloadStart: number, packetEnd: number, packetNumber: number): number {
    const keys = this.selectReceiveKeys(buf[headerStart]!, packetNumber);
    const n = keys.open(buf, headerStart, payloadStart, packetEnd, packetNumber);
    this.afterOpen(n >= 0, packetNumber);
    return n;
  }

  /** Like `openPayload`, returning the plaintext as a keepable view (see `PayloadProtector.openView`). */
  openPayloadView(buf: Uint8Array, headerStart: number, payloadStart: number, packetEnd: number, packetNumber: number): Uint8Array | undefined {
    const keys = this.selectReceiveKeys(buf[headerStart]!, packetNumber);
    const pt = keys.openView(buf, headerStart, payloadStart, packetEnd, packetNumber);
    this.afterOpen(pt !== undefined, packetNumber);
    return pt;
  }

  private pendingWhich: OpenedWith = OpenedWith.None;

  /** RFC 9001 §6.3: the keys a packet's KEY_PHASE bit and number select. */
  private selectReceiveKeys(firstByte: number, packetNumber: number): PayloadProtector {
    const bit = (firstByte & KEY_PHASE_BIT) >>> 2;
    if (bit === this.phase) {
      this.pendingWhich = OpenedWith.Current;
      return this.current.receive;
    }
    if (this.previousReceive !== undefined && packetNumber < this.lowestInPhase) {
      this.pendingWhich = OpenedWith.Previous;
      return this.previousReceive;
    }
    this.pendingWhich = OpenedWith.Next;
    return this.next.receive;
  }

  private afterOpen(ok: boolean, packetNumber: number): void {
    if (!ok) {
      this.lastOpenedWith = OpenedWith.None;
      return;
    }
    const which = this.pendingWhich;
    this.lastOpenedWith = which;
    if (which === OpenedWith.Next) this.rotate();
    if (which !== OpenedWith.Previous && packetNumber < this.lowestInPhase) this.lowestInPhase = packetNumber;
  }


  /** Starts a key update from this side: the next packets are sent with the next generation. */
  initiateKeyUpdate(): void {
    this.rotate();
  }

  /** Drops the previous generation's receive keys (the connection does this ≈3×PTO after an update). */
  discardPreviousKeys(): void {
    this.previousReceive = undefined;
  }

  private rotate(): void {
    this.previousReceive = this.current.receive;
    this.current = this.next;
    this.next = this.successor(this.current);
    this.phase = this.phase === 0 ? 1 : 0;
    this.generationNumber++;
    this.lowestInPhase = Number.POSITIVE_INFINITY;
  }
}
