/**
 * quicer's lower-level functions (the `quicer` module), on top of which the behaviours stand:
 * connect / listen / accept / handshake, streams, send / recv, shutdown, getopt / setopt,
 * addresses and certificates, datagrams and statistics. Results are quicer's terms as tagged
 * tuples: `['ok', Value]`, `['error', Reason]`, `['error', Kind, Status]`. Options are validated
 * first: a bad option throws a TypeError / RangeError naming it, before anything is sent.
 *
 * Functions that need an owner (the process that receives the events) take the calling
 * process (`self()`) when called from inside a callback, or an explicit `owner`.
 */
export { QuicConn, ConnShutdownFlag, ConnEventMask } from './conn-handle.js';
export { QuicListener, type ListenOn } from './listener.js';
export { QuicStrm, SendFlag, StreamEventMask, StreamShutdownFlag, StreamStartFlag, StreamOpenFlag, RecvFlag } from './stream-handle.js';
export * from './quicer-connections.js';
export * from './quicer-streams.js';
export * from './quicer-info.js';
export * from './quicer-settings.js';

