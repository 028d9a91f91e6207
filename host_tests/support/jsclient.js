'use strict'
/*
 * The official deepstream JS clients, installed in tools/server/node_modules, driven over
 * stdin/stdout with JSON lines:
 *   protocol "text"    deepstream.io-client-js@2.3.4  (ws-text endpoint, /deepstream-v3)
 *   protocol "binary"  @deepstream/client@7.0.5       (ws-binary endpoint, /deepstream)
 * The commands and notifications are the same for both; the few calls whose API differs
 * between the two go through ADAPTERS below.
 *
 * stdin, one JSON object a line:   {"id": 7, "cmd": "event.emit", "name": "news", "data": 1}
 * stdout, one JSON object a line:
 *   reply:         {"type": "reply", "id": 7, "result": ...}         (or "error": "text")
 *   notification:  {"type": "note", "kind": "event", "name": "news", "data": 1}
 *     kinds: event, listen, record_listen, record, record_event, rpc, presence, error,
 *     state, uncaught, protocol_error (jsclient.py lists their fields)
 *
 * The first command must be {"cmd": "init", "protocol": "text"|"binary", "url": ...,
 * "options": {...}}. JSON has no `undefined`: undefined values are sent as null (or left out).
 * Used by host_tests/support/jsclient.py; nothing here is part of the library.
 *
 * Options are given in 2.3.4's names. For 7.0.5 they pass through unchanged (same name,
 * same meaning: heartbeatInterval, reconnectIntervalIncrement, maxReconnectInterval,
 * maxReconnectAttempts, subscriptionTimeout, recordReadAckTimeout, recordReadTimeout,
 * recordDeleteTimeout, path, recordDeepCopy; 7.0.5-only names such as offlineBufferTimeout
 * too), except: nodeSocketOptions is called socketOptions; rpcAckTimeout,
 * rpcResponseTimeout, maxMessagesPerPacket and timeBetweenSendingQueuedPackages have no
 * equivalent (RPC timeouts are the server's in 7.x; one message per frame) and make init
 * fail. Two 7.0.5 defaults are changed here (pass them to override):
 *   subscriptionInterval 0   7.0.5 collects (un)subscribes, provides and listens for 100 ms
 *                            and sends them as one message; 0 sends each at once, so a
 *                            round trip after it (jsclient.py's sync) finds it done
 *   recordDiscardTimeout 0   7.0.5 sends a discarded record's UNSUBSCRIBE only after this
 *                            (default 5000 ms) and only then reports 'discard' (at once,
 *                            without waiting for the server's ack); record.discard replies
 *                            once the record is destroyed, a tick later: a getRecord in
 *                            between would get the dying record (stale, never updated,
 *                            delete fails with RECORD_ALREADY_DESTROYED)
 *
 * What 7.0.5 does differently, as seen through these commands (all against server 7.0.2):
 * - login: a refused login answers (false, {"reason": clientData or
 *   "INVALID_AUTHENTICATION_DETAILS"}), 2.3.4 answers (false, null).
 * - states: 7.0.5 passes through CHALLENGING (AWAITING_CONNECTION, CHALLENGING,
 *   AWAITING_AUTHENTICATION, AUTHENTICATING, OPEN); a refused reconnect stays RECONNECTING
 *   (2.3.4: RECONNECTING, ERROR, RECONNECTING); close() gives CLOSING, CLOSED (2.3.4: CLOSED).
 * - the heartbeat runs the other way: the binary endpoint never pings; the client sends
 *   PING every heartbeatInterval (default 30000) and drops a connection silent for 2
 *   intervals, the server closes one that sent nothing for 2-3 of its own intervals. So on
 *   a server started with heartbeat_interval H, give 7.0.5 heartbeatInterval <= H, or the
 *   server cuts an idle client (it reconnects: RECONNECTING ... OPEN).
 * - error notifications: topic is the name ("EVENT", "RECORD", "CONNECTION"), not the
 *   letter ("E", "R", "C"); message is often the whole parsed message (sent here as its
 *   JSON text) rather than the record/event name. A refused event publish (MESSAGE_DENIED)
 *   arrives as {"message": "{\"topic\":4}", "event": "MESSAGE_DENIED", "topic": "EVENT"}:
 *   7.0.5 drops the event's name.
 * - record.subscribe before the record is ready (before record.get): 7.0.5 calls back once
 *   when it gets ready, for every subscribed path whose value is truthy (a new record: {});
 *   2.3.4 only for the whole record, and only if the loaded data is not empty. Subscribe
 *   after record.get to get the same notifications from both.
 * - record.has works (HEAD, -1 = missing); 2.3.4's R|H is never answered by 7.0.2.
 * - record.snapshot of a missing record: error "RECORD_NOT_FOUND", data null (2.3.4: no
 *   callback; an error notification RECORD_NOT_FOUND, then RESPONSE_TIMEOUT).
 * - an RPC provider's error arrives as its value ("bad"); a 2.3.4 requester gets the text
 *   protocol's typed string ("Sbad"), from either provider.
 * - snapshot/head/has of a record this client holds are answered locally, no round trip
 *   (so sync() must use a record nobody holds, as it does).
 * - event/record listen: besides the server's "match removed" (to the provider that
 *   accepted), 7.0.5 also reports isSubscribed false for its accepted matches when its
 *   connection is lost (read in its source).
 * - presence with both subscribe() and subscribe(user): 7.0.5 reports a join/leave once to
 *   each; 2.3.4 twice to each (it calls both callbacks for each of the server's 2 messages).
 * - presence.getAll may fail (e.g. CLIENT_OFFLINE): jsclient.py raises then; 2.3.4 has no
 *   error path.
 */
const path = require('path')
const readline = require('readline')

const SERVER_DIR = process.env.DS_NODE_DIR ||
  path.join(__dirname, '..', '..', 'tools', 'server')

function requireClient (name) {
  return require(path.join(SERVER_DIR, 'node_modules', name))
}

const TEXT_ONLY_OPTIONS = ['rpcAckTimeout', 'rpcResponseTimeout', 'maxMessagesPerPacket',
  'timeBetweenSendingQueuedPackages']
const RENAMED_OPTIONS = { nodeSocketOptions: 'socketOptions' }
const BINARY_DEFAULTS = { subscriptionInterval: 0, recordDiscardTimeout: 0 }

function binaryOptions (options) {
  const result = Object.assign({}, BINARY_DEFAULTS)
  for (const key of Object.keys(options)) {
    if (TEXT_ONLY_OPTIONS.includes(key)) {
      throw new Error('option ' + key + ' of deepstream.io-client-js 2.3.4 has no equivalent in @deepstream/client 7.0.5')
    }
    result[RENAMED_OPTIONS[key] || key] = options[key]
  }
  return result
}

// What differs between the two client APIs, and nothing else.
//   create(url, options)   -> client
//   listener(report)       -> the callback for event.listen/record.listen; it calls
//                             report(name, isSubscribed, response-or-undefined)
//   query(done)            -> the callback for presence.getAll; it calls done(error, result)
//   released(name)         -> true once a record reported discarded is really gone
//   userPresence(report)   -> the callback for presence.subscribe(user); it calls
//                             report(user, loggedIn) (2.3.4 passes them the other way round)
const ADAPTERS = {
  text: {
    create: (url, options) => requireClient('deepstream.io-client-js')(url,
      Object.assign({ silentDeprecation: true }, options)),
    listener: (report) => report,
    query: (done) => (result) => done(null, result),
    released: () => true,
    userPresence: (report) => (loggedIn, user) => report(user, loggedIn)
  },
  binary: {
    create: (url, options) => new (requireClient('@deepstream/client').DeepstreamClient)(url,
      binaryOptions(options)),
    listener: (report) => (name, response) => {
      response.onStop(() => report(name, false))
      report(name, true, response)
    },
    query: (done) => done,
    released: (name) => !client.record.names().includes(name),
    userPresence: (report) => report
  }
}

// stdout carries the JSON lines only: anything the client library prints goes to stderr
console.log = console.error
console.info = console.error
console.warn = console.error

let client = null
let adapter = null
let closed = false        // close() was called (7.0.5 reports a second close as an error)
let discardDelay = 0      // 7.0.5's recordDiscardTimeout: discard reports after it
const records = {}        // name -> Record
const recordSubs = {}     // name + '\x00' + path -> callback
const eventSubs = {}      // name -> callback
let presenceCb = null
const presenceUserCbs = {} // user -> callback

function out (obj) {
  process.stdout.write(JSON.stringify(obj, (k, v) => (v === undefined ? null : v)) + '\n')
}
function note (kind, fields) {
  out(Object.assign({ type: 'note', kind: kind }, fields))
}
function errText (e) {
  if (e === null || e === undefined) return null
  if (typeof e === 'string') return e
  if (typeof e.message === 'string') return e.message   // Error, websocket error event
  try {
    return JSON.stringify(e)   // 7.0.5 reports many errors with the parsed message object
  } catch (_) {
    return String(e)
  }
}

function getRecord (name) {
  let rec = records[name]
  if (!rec) {
    rec = client.record.getRecord(name)
    records[name] = rec
    rec.on('error', (msg, event) => note('record_event', { name: name, event: 'error', message: errText(msg), error: event }))
    rec.on('delete', () => { note('record_event', { name: name, event: 'delete' }); delete records[name] })
    rec.on('discard', () => { note('record_event', { name: name, event: 'discard' }); delete records[name] })
  }
  return rec
}

function sum (data) {
  if (Array.isArray(data)) return data.reduce((a, b) => a + b, 0)
  if (data && typeof data === 'object') return data.a + data.b
  return data
}

function listenCallback (kind, pattern, accept) {
  return adapter.listener((name, isSubscribed, response) => {
    note(kind, { pattern: pattern, name: name, isSubscribed: isSubscribed })
    if (isSubscribed && response) {
      if (accept) response.accept()
      else response.reject()
    }
  })
}

function presenceNote (user, loggedIn) {
  note('presence', { user: user, loggedIn: loggedIn })
}

const commands = {
  init (c) {
    if (client !== null) throw new Error('init was sent already')
    adapter = ADAPTERS[c.protocol]
    if (!adapter) throw new Error('unknown protocol ' + c.protocol)
    client = adapter.create(c.url, c.options || {})
    discardDelay = (c.options || {}).recordDiscardTimeout || 0
    client.on('error', (message, event, topic) => {
      note('error', { message: errText(message), event: event, topic: topic })
    })
    client.on('connectionStateChanged', (state) => note('state', { state: state }))
    return { state: client.getConnectionState() }
  },
  login (c, reply) {
    client.login(c.auth || {}, (success, data) => reply({ success: success, data: data }))
  },
  state () { return client.getConnectionState() },
  close () {
    if (!closed) client.close()
    closed = true
    return true
  },
  uid () { return client.getUid() },

  // ----- events
  'event.subscribe' (c) {
    if (!eventSubs[c.name]) {
      eventSubs[c.name] = (data) => note('event', { name: c.name, data: data })
      client.event.subscribe(c.name, eventSubs[c.name])
    }
    return true
  },
  'event.unsubscribe' (c) {
    if (eventSubs[c.name]) {
      client.event.unsubscribe(c.name, eventSubs[c.name])
      delete eventSubs[c.name]
    }
    return true
  },
  'event.emit' (c) {
    client.event.emit(c.name, c.data === null ? undefined : c.data)
    return true
  },
  'event.listen' (c) {
    client.event.listen(c.pattern, listenCallback('listen', c.pattern, c.accept !== false))
    return true
  },
  'event.unlisten' (c) {
    client.event.unlisten(c.pattern)
    return true
  },

  // ----- records
  'record.get' (c, reply) {
    const rec = getRecord(c.name)
    rec.whenReady(() => reply({ data: rec.get(), version: rec.version }))
  },
  'record.set' (c, reply) {
    const rec = getRecord(c.name)
    const hasPath = c.path !== null && c.path !== undefined
    const data = c.erase ? undefined : c.data  // a path set to undefined erases it
    if (c.ack) {
      const cb = (err) => reply({ error: errText(err) })
      if (hasPath) rec.set(c.path, data, cb)
      else rec.set(data, cb)
    } else {
      if (hasPath) rec.set(c.path, data)
      else rec.set(data)
      reply({ error: null })
    }
  },
  'record.data' (c) {
    const rec = getRecord(c.name)
    const hasPath = c.path !== null && c.path !== undefined
    return { data: hasPath ? rec.get(c.path) : rec.get(), version: rec.version, ready: rec.isReady }
  },
  'record.subscribe' (c) {
    const rec = getRecord(c.name)
    const key = c.name + '\x00' + (c.path || '')
    if (!recordSubs[key]) {
      const cb = (data) => note('record', { name: c.name, path: c.path || null, data: data })
      recordSubs[key] = cb
      if (c.path) rec.subscribe(c.path, cb, !!c.triggerNow)
      else rec.subscribe(cb, !!c.triggerNow)
    }
    return true
  },
  'record.unsubscribe' (c) {
    const rec = records[c.name]
    const key = c.name + '\x00' + (c.path || '')
    if (rec && recordSubs[key]) {
      if (c.path) rec.unsubscribe(c.path, recordSubs[key])
      else rec.unsubscribe(recordSubs[key])
    }
    delete recordSubs[key]
    return true
  },
  'record.delete' (c, reply) {
    const rec = getRecord(c.name)
    let done = false
    const finish = (result) => { if (!done) { done = true; clearTimeout(timer); reply(result) } }
    const timer = setTimeout(() => finish({ deleted: false, error: 'no delete ack' }), c.timeout || 3000)
    rec.once('delete', () => finish({ deleted: true, error: null }))
    rec.once('error', (msg) => finish({ deleted: false, error: errText(msg) }))
    const promise = rec.delete()  // 7.0.5: a promise, rejected as 'error' is emitted
    if (promise) promise.catch((e) => finish({ deleted: false, error: errText(e) }))
    for (const key of Object.keys(recordSubs)) {
      if (key.startsWith(c.name + '\x00')) delete recordSubs[key]
    }
  },
  'record.discard' (c, reply) {
    const rec = records[c.name]
    if (!rec) return reply({ discarded: false, error: 'not open' })
    let done = false
    const finish = (result) => { if (!done) { done = true; clearTimeout(timer); reply(result) } }
    const timer = setTimeout(() => finish({ discarded: false, error: 'no discard ack' }),
      (c.timeout || 3000) + discardDelay)
    const released = () => {
      if (adapter.released(c.name)) finish({ discarded: true, error: null })
      else setTimeout(released, 5)
    }
    rec.once('discard', released)
    rec.discard()
    delete records[c.name]
    for (const key of Object.keys(recordSubs)) {
      if (key.startsWith(c.name + '\x00')) delete recordSubs[key]
    }
  },
  'record.snapshot' (c, reply) {
    client.record.snapshot(c.name, (err, data) => reply({ error: errText(err), data: data }))
  },
  'record.has' (c, reply) {
    client.record.has(c.name, (err, has) => reply({ error: errText(err), has: has }))
  },
  'record.head' (c, reply) {
    client.record.head(c.name, (err, version) => reply({ error: errText(err), version: version }))
  },
  'record.setData' (c, reply) {
    const hasPath = c.path !== null && c.path !== undefined
    const cb = (err) => reply({ error: errText(err) })
    if (hasPath) client.record.setData(c.name, c.path, c.data, cb)
    else client.record.setData(c.name, c.data, cb)
  },
  'record.listen' (c) {
    client.record.listen(c.pattern, listenCallback('record_listen', c.pattern, c.accept !== false))
    return true
  },
  'record.unlisten' (c) {
    client.record.unlisten(c.pattern)
    return true
  },

  // ----- rpc
  'rpc.provide' (c) {
    const behaviour = c.behaviour || 'echo'
    client.rpc.provide(c.name, (data, response) => {
      note('rpc', { name: c.name, data: data })
      const act = () => {
        switch (behaviour) {
          case 'echo': return response.send(data)
          case 'add': return response.send(sum(data))
          case 'answer': return response.send(c.data)
          case 'reject': return response.reject()
          case 'error': return response.error(c.message || 'provider error')
          case 'ignore': return undefined
          default: return response.error('unknown behaviour ' + behaviour)
        }
      }
      if (c.delayMs) setTimeout(act, c.delayMs)
      else act()
    })
    return true
  },
  'rpc.unprovide' (c) {
    client.rpc.unprovide(c.name)
    return true
  },
  'rpc.make' (c, reply) {
    client.rpc.make(c.name, c.data === null ? undefined : c.data,
      (err, result) => reply({ error: errText(err), result: result }))
  },

  // ----- presence
  'presence.getAll' (c, reply) {
    const done = adapter.query((err, result) => reply({ error: errText(err), users: result }))
    if (c.users) client.presence.getAll(c.users, done)
    else client.presence.getAll(done)
  },
  'presence.subscribe' (c) {
    if (c.user) {
      if (!presenceUserCbs[c.user]) {
        presenceUserCbs[c.user] = adapter.userPresence(presenceNote)
        client.presence.subscribe(c.user, presenceUserCbs[c.user])
      }
    } else if (!presenceCb) {
      presenceCb = presenceNote
      client.presence.subscribe(presenceCb)
    }
    return true
  },
  'presence.unsubscribe' (c) {
    if (c.user) {
      if (presenceUserCbs[c.user]) client.presence.unsubscribe(c.user, presenceUserCbs[c.user])
      delete presenceUserCbs[c.user]
    } else if (presenceCb) {
      client.presence.unsubscribe(presenceCb)
      presenceCb = null
    }
    return true
  }
}

function handle (line) {
  let c
  try {
    c = JSON.parse(line)
  } catch (e) {
    note('protocol_error', { message: 'bad JSON: ' + line })
    return
  }
  const id = c.id
  let replied = false
  const reply = (result) => {
    if (replied) return
    replied = true
    out({ type: 'reply', id: id, result: result })
  }
  const fn = commands[c.cmd]
  try {
    if (!fn) throw new Error('unknown command ' + c.cmd)
    if (c.cmd !== 'init' && client === null) throw new Error('send init first')
    if (fn.length >= 2) {
      fn(c, reply)
    } else {
      reply(fn(c))
    }
  } catch (e) {
    if (!replied) {
      replied = true
      out({ type: 'reply', id: id, error: errText(e) })
    }
  }
}

process.on('uncaughtException', (e) => {
  note('uncaught', { message: errText(e), stack: e && e.stack })
})

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => { if (line.trim()) handle(line) })
rl.on('close', () => {
  try { if (client && !closed) client.close() } catch (e) {}
  process.exit(0)
})
