'use strict'
/*
 * The official deepstream JS client (deepstream.io-client-js@2.3.4, installed in
 * tools/server/node_modules) driven over stdin/stdout with JSON lines.
 *
 * stdin, one JSON object a line:   {"id": 7, "cmd": "event.emit", "name": "news", "data": 1}
 * stdout, one JSON object a line:
 *   reply:         {"type": "reply", "id": 7, "result": ...}         (or "error": "text")
 *   notification:  {"type": "note", "kind": "event", "name": "news", "data": 1}
 *     kinds: event, listen, record, rpc, presence, error, state, record_event, closed
 *
 * The first command must be {"cmd": "init", "url": ..., "options": {...}}.
 * JSON has no `undefined`: undefined values are sent as null (or left out).
 * Used by host_tests/support/jsclient.py; nothing here is part of the library.
 */
const path = require('path')
const readline = require('readline')

const SERVER_DIR = process.env.DS_NODE_DIR ||
  path.join(__dirname, '..', '..', 'tools', 'server')
const deepstream = require(path.join(SERVER_DIR, 'node_modules', 'deepstream.io-client-js'))

// stdout carries the JSON lines only: anything the client library prints goes to stderr
console.log = console.error
console.info = console.error
console.warn = console.error

let client = null
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
  return (e && e.message) ? e.message : String(e)
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

const commands = {
  init (c) {
    client = deepstream(c.url, Object.assign({ silentDeprecation: true }, c.options || {}))
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
    client.close()
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
    const accept = c.accept !== false
    client.event.listen(c.pattern, (name, isSubscribed, response) => {
      note('listen', { pattern: c.pattern, name: name, isSubscribed: isSubscribed })
      if (isSubscribed && response) {
        if (accept) response.accept()
        else response.reject()
      }
    })
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
    if (c.ack) {
      const cb = (err) => reply({ error: errText(err) })
      if (hasPath) rec.set(c.path, c.data, cb)
      else rec.set(c.data, cb)
    } else {
      if (hasPath) rec.set(c.path, c.data)
      else rec.set(c.data)
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
    rec.delete()
    for (const key of Object.keys(recordSubs)) {
      if (key.startsWith(c.name + '\x00')) delete recordSubs[key]
    }
  },
  'record.discard' (c, reply) {
    const rec = records[c.name]
    if (!rec) return reply({ discarded: false, error: 'not open' })
    let done = false
    const finish = (result) => { if (!done) { done = true; clearTimeout(timer); reply(result) } }
    const timer = setTimeout(() => finish({ discarded: false, error: 'no discard ack' }), c.timeout || 3000)
    rec.once('discard', () => finish({ discarded: true, error: null }))
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
    const accept = c.accept !== false
    client.record.listen(c.pattern, (name, isSubscribed, response) => {
      note('record_listen', { pattern: c.pattern, name: name, isSubscribed: isSubscribed })
      if (isSubscribed && response) {
        if (accept) response.accept()
        else response.reject()
      }
    })
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
    if (c.users) client.presence.getAll(c.users, (result) => reply({ users: result }))
    else client.presence.getAll((result) => reply({ users: result }))
  },
  'presence.subscribe' (c) {
    if (c.user) {
      if (!presenceUserCbs[c.user]) {
        presenceUserCbs[c.user] = (user, loggedIn) => note('presence', { user: user, loggedIn: loggedIn })
        client.presence.subscribe(c.user, presenceUserCbs[c.user])
      }
    } else if (!presenceCb) {
      presenceCb = (user, loggedIn) => note('presence', { user: user, loggedIn: loggedIn })
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
  try { if (client) client.close() } catch (e) {}
  process.exit(0)
})
