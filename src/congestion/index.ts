/**
 * Congestion control for QUIC connections: the controller interface, NewReno (RFC 9002),
 * CUBIC (RFC 9438), HyStart++ (RFC 9406) and the pacer, with a factory by algorithm name.
 */

export * from './controller.js';
export * from './new-reno.js';
export * from './cubic.js';
export * from './pacer.js';
export { HyStartPlusPlus } from './hystart.js';

import type { CongestionAlgorithm, CongestionController } from './controller.js';
import { CubicController } from './cubic.js';
import type { CubicSettings } from './cubic.js';
import { NewRenoController } from './new-reno.js';

/** The algorithm names `createCongestionController` accepts. */
export const CONGESTION_ALGORITHMS: readonly CongestionAlgorithm[] = ['cubic', 'newreno'];

/**
 * A controller by name, 'cubic' or 'newreno', with the given settings
 * (maximum datagram size, initial and minimum window in packets, HyStart++,
 * and for CUBIC fast convergence).
 */
export function createCongestionController(
  algorithm: CongestionAlgorithm,
  settings: CubicSettings = {},
): CongestionController {
  switch (algorithm) {
    case 'cubic':
      return new CubicController(settings);
    case 'newreno':
      return new NewRenoController(settings);
    default:
      throw new TypeError(
        `unknown congestion control algorithm ${JSON.stringify(algorithm)}; expected one of ${CONGESTION_ALGORITHMS.join(', ')}`,
      );
  }
}
