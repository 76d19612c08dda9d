/**
 * Where quicer connections live: the UDP endpoints client connections share (one per address
 * family, bound lazily to an ephemeral port, as MsQuic shares bindings), dedicated endpoints
 * for clients that asked for a `local_address`, and the count of open connections.
 */
import { isIPv6 } from 'node:net';
import { QuicEndpoint, type EndpointOptions } from '../endpoint/udp-endpoint.js';

/**
 * A registration (quicer's `reg_handle()`, MsQuic's registration): the UDP sockets its client
 * connections use and how many connections are open. quicer's functions use
 * `globalRegistration` unless `ConnectOptions.registration` names another. A shared socket
 * with no connection on it does not keep Node running; `close()` closes all its sockets.
 */
export class Registration {
  private readonly shared = new Map<string, Promise<QuicEndpoint>>();
  private readonly dedicated = new Set<QuicEndpoint>();
  /** Open connections (client and server) counted by the quicer layer. */
  connectionCount = 0;

  /**
   * An endpoint for a client connection to `peer`: the shared one of its family, or a new one
   * bound to `local` when given (owned by that connection: close it with `release`).
   */
  async clientEndpoint(peer: string, local: { address: string | undefined; port: number } | undefined, options: EndpointOptions = {}): Promise<QuicEndpoint> {
    const v6 = isIPv6(peer);
    if (local !== undefined) {
      const host = local.address ?? (v6 ? '::' : '0.0.0.0');
      const ep = await QuicEndpoint.bind({ ...options, host, port: local.port, ipv6: isIPv6(host) });
      this.dedicated.add(ep);
      return ep;
    }
    const key = v6 ? 'udp6' : 'udp4';
    let p = this.shared.get(key);
    if (p === undefined) {
      // A shared socket with no connection on it does not keep the process alive: a script
      // ends once its connections are done, as it would with quicer (close() is not needed).
      p = QuicEndpoint.bind({ ...options, ipv6: v6, host: v6 ? '::' : '0.0.0.0', unrefWhenIdle: true });
      this.shared.set(key, p);
      p.catch(() => this.shared.delete(key));
    }
    return p;
  }

  /** Closes a dedicated endpoint once its connection is gone. */
  async release(ep: QuicEndpoint): Promise<void> {
    if (this.dedicated.delete(ep)) await ep.close();
  }

  /**
   * Closes every socket of this registration (shared and dedicated); connections still open on
   * them are closed with error 0 first. Later connects bind new sockets.
   */
  async close(): Promise<void> {
    const all = [...this.dedicated];
    this.dedicated.clear();
    for (const p of this.shared.values()) all.push(await p.catch(() => undefined as unknown as QuicEndpoint));
    this.shared.clear();
    await Promise.all(all.filter((e) => e !== undefined).map((e) => e.close()));
  }
}

/** The registration quicer's functions use unless given another (quicer's global registration). */
export const globalRegistration = new Registration();
