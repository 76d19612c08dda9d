#!/usr/bin/env node
/** The `purequic` command. The transport and the demo land with the transport issue. */
console.log('purequic: the loopback demo (server + client transferring data) is coming with the transport; run `npm test` for what exists today.');
