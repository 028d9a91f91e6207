'use strict'
/*
 * The official JS clients in the benchmarks: deepstream.io-client-js 2.3.4 on the text
 * endpoint (/deepstream-v3), @deepstream/client 7.0.5 on any other path (binary).
 *
 *   node tools/bench/js_bench.js provide URL NAME    RPC provider: answers with the request
 *                                                     data; prints READY, runs until stdin closes
 *   node tools/bench/js_bench.js make URL NAME N     20 warm-up calls, then N sequential calls
 *   node tools/bench/js_bench.js events URL NAME N DONE [STRING]
 *   node tools/bench/js_bench.js records URL NAME N DONE
 *        publisher (7.0.5 only): emit(NAME, {n: i, v: 21.5}) (or the STRING) N times, or
 *        rec.set('n', i) for i = 1..N, in a tight loop, as ds_publish.py does; then waits for DONE
 * Each measuring mode prints one `BENCH {json}` line. "Handed to the socket" (send_us) is
 * from the first emit/set to the moment the websocket's bufferedAmount is 0: everything
 * written to the kernel (the client writes each message to the socket as it is made).
 */
const path = require('path')
const modules = path.join(__dirname, '..', 'server', 'node_modules')

const [mode, url, name, count, done, payload] = process.argv.slice(2)
const binary = new URL(url).pathname !== '/deepstream-v3'
// subscriptionInterval 0: 7.0.5 sends a subscription or provide at once instead of 100 ms
// later, so that the round trip below finds it done (no effect on emits, sets and calls)
const client = binary
  ? new (require(path.join(modules, '@deepstream/client')).DeepstreamClient)(url, { subscriptionInterval: 0 })
  : require(path.join(modules, 'deepstream.io-client-js'))(url, { silentDeprecation: true })
client.on('error', (message, event) => process.stderr.write('error ' + event + ' ' + message + '\n'))

client.login({ username: 'bench-js-' + mode }, (success) => {
  if (!success) { process.stderr.write('login failed\n'); process.exit(2) }
  if (mode === 'provide') provide()
  else if (mode === 'make') make(parseInt(count, 10))
  else if (binary) publish(parseInt(count, 10))
  else { process.stderr.write('the publisher modes are for 7.0.5 (binary)\n'); process.exit(2) }
})

// a round trip through the server: what was sent before has been handled when it returns
function sync (then) {
  client.record.head('__bench_sync__', () => then())
}

function report (result) {
  process.stdout.write('BENCH ' + JSON.stringify(result) + '\n')
  client.close()
  setTimeout(() => process.exit(0), 100)
}

function provide () {
  client.rpc.provide(name, (data, response) => response.send(data))
  sync(() => process.stdout.write('READY\n'))
  process.stdin.resume()
  process.stdin.on('end', () => { client.close(); setTimeout(() => process.exit(0), 100) })
}

function make (n) {
  const WARMUP = 20
  const lat = []
  let failed = 0
  let firstError = null
  let i = -WARMUP
  let t0 = null
  const next = () => {
    if (i === 0) t0 = process.hrtime.bigint()
    if (i >= n) return finish()
    const t = process.hrtime.bigint()
    client.rpc.make(name, i, (err) => {
      if (err) { failed++; if (firstError === null) firstError = String(err) }
      if (i >= 0) lat.push(Number(process.hrtime.bigint() - t) / 1000)
      i++
      next()
    })
  }
  const finish = () => {
    lat.sort((a, b) => a - b)
    report({
      n: n,
      total_us: Number(process.hrtime.bigint() - t0) / 1000,
      p50_us: lat[Math.floor(n / 2)],
      p99_us: lat[Math.floor(n * 99 / 100) - 1],
      failed: failed,
      first_error: firstError,
      errors: []
    })
  }
  next()
}

function publish (n) {
  let t0, t1
  client.event.subscribe(done, () => {
    report({ send_us: Number(t1 - t0) / 1000, done_us: Number(process.hrtime.bigint() - t0) / 1000, errors: [] })
  })
  const flushed = (then) => {
    const ws = client.services.connection.endpoint  // 7.0.5's websocket
    const wait = () => ws.bufferedAmount ? setImmediate(wait) : then()
    wait()
  }
  const run = (loop) => sync(() => {
    t0 = process.hrtime.bigint()
    loop()
    flushed(() => { t1 = process.hrtime.bigint() })
  })
  if (mode === 'records') {
    const rec = client.record.getRecord(name)
    rec.whenReady(() => run(() => {
      for (let i = 1; i <= n; i++) rec.set('n', i)
    }))
  } else {
    run(() => {
      for (let i = 0; i < n; i++) client.event.emit(name, payload === undefined ? { n: i, v: 21.5 } : payload)
    })
  }
}
