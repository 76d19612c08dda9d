export { QuicEndpoint, nowMs, type EndpointOptions, type ServerOptions, type ConnectOptions } from './udp-endpoint.js';
export { EndpointConnection } from './endpoint-connection.js';
export { EndpointConnectionIds, CidRouter, cidKey } from './cid-routing.js';
export { versionNegotiationPacket, retryPacket, statelessResetPacket } from './stateless.js';
