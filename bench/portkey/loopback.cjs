// Preloaded into the Portkey gateway by bench/run.sh (node --require): Portkey 1.15.2 takes its port from
// --port=N but has no option for the address, and calls server.listen(port) without a host, which listens on every
// interface. This makes every listen() without a host listen on 127.0.0.1 instead.
'use strict';
const net = require('net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (args.length < 2 || args[1] === undefined || typeof args[1] === 'function') {
      args.splice(1, args[1] === undefined && args.length >= 2 ? 1 : 0, '127.0.0.1');
    }
  } else if (args[0] && typeof args[0] === 'object' && !args[0].path && args[0].host === undefined) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
