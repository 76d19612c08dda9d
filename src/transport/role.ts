/** Which end of a connection an endpoint is. */
export type Role = 'client' | 'server';
