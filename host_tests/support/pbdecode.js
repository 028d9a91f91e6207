'use strict'
/*
 * Decodes deepstream binary-protocol websocket payloads the way @deepstream/server 7.0.2
 * does: with the @deepstream/protobuf module the server itself loads (resolved from the
 * server's package in tools/server/node_modules), length-delimited wrapper
 * `Message {topic = 2, message = 3}` first, then `message` as the topic's own message.
 *
 * stdin:  a JSON array of hex strings, one websocket payload each
 * stdout: a JSON array, one object per payload:
 *   {"topic": 5, "action": 6, "fields": {"action": 6, "name": "dev/2", "version": -1},
 *    "trailing": ""}
 *   {"error": "index out of range: 3 + 16 > 7"}     (the server cannot decode it either)
 * fields    the topic message's fields that were on the wire, by their .proto names, with
 *           explicit default values too (isWriteAck false, version 0, data ""); a repeated
 *           or map field counts when it has entries (an empty one has no bytes on the wire)
 * action    fields.action, or null when the frame has none
 * trailing  hex of the bytes after the first delimited message (the server ignores them)
 * Used by host_tests/support/pbdecode.py.
 */
const path = require('path')

const SERVER_DIR = process.env.DS_NODE_DIR ||
  path.join(__dirname, '..', '..', 'tools', 'server')
const server = path.dirname(require.resolve(
  path.join(SERVER_DIR, 'node_modules', '@deepstream', 'server', 'package.json')))
const fromServer = (name) => require(require.resolve(name, { paths: [server] }))
const { Message } = fromServer('@deepstream/protobuf/dist/generated/protobuf')
const { TopicMessage } = fromServer('@deepstream/protobuf/dist/src/protobuf-map')
// the protobufjs copy the generated code uses (its decoders accept only their own Reader)
const { Reader } = require(require.resolve('protobufjs/minimal', {
  paths: [path.dirname(require.resolve('@deepstream/protobuf/package.json', { paths: [server] }))]
}))

function onTheWire (message) {
  const fields = {}
  for (const [key, value] of Object.entries(message)) {
    const entries = Array.isArray(value) ? value.length
      : (value !== null && typeof value === 'object') ? Object.keys(value).length : 1
    if (entries > 0) fields[key] = value
  }
  return fields
}

function decode (hex) {
  const payload = Buffer.from(hex, 'hex')
  try {
    const reader = Reader.create(payload)
    const wrapper = Message.decodeDelimited(reader)
    const type = TopicMessage[wrapper.topic]
    if (!type) throw new Error('no message type for topic ' + wrapper.topic)
    const fields = onTheWire(type.decode(wrapper.message))
    return {
      topic: wrapper.topic,
      action: fields.action === undefined ? null : fields.action,
      fields: fields,
      trailing: payload.subarray(reader.pos).toString('hex')
    }
  } catch (e) {
    return { error: e.message }
  }
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => { input += chunk })
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map(decode)) + '\n')
})
