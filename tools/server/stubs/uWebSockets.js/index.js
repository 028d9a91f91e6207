'use strict'
// Stub for uWebSockets.js (the real one is fetched from GitHub, which CI cannot reach).
// Our test configs use only the `ws`-based endpoints of @deepstream/server, so nothing
// should call into this module; if something does, fail loudly.
function unavailable (name) {
  return function () {
    throw new Error('uWebSockets.js stub: ' + name + ' is not available (use a ws-* endpoint)')
  }
}
module.exports = {
  App: unavailable('App'),
  SSLApp: unavailable('SSLApp'),
  us_listen_socket_close: unavailable('us_listen_socket_close'),
  getParts: unavailable('getParts')
}
