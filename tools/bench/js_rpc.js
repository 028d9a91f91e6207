'use strict'
/*
 * The official JS client (deepstream.io-client-js 2.3.4) for the RPC benchmark.
 *
 *   node tools/bench/js_rpc.js provide URL NAME    provider: answers with the request data;
 *                                                   prints READY, runs until stdin closes
 *   node tools/bench/js_rpc.js make URL NAME N     20 warm-up calls, then N sequential calls;
 *                                                   prints one `BENCH {json}` line
 */
const path = require('path')
const deepstream = require(path.join(__dirname, '..', 'server', 'node_modules', 'deepstream.io-client-js'))

const [mode, url, name, count] = process.argv.slice(2)
const client = deepstream(url, { silentDeprecation: true })
client.on('error', (message, event) => process.stderr.write('error ' + event + ' ' + message + '\n'))

client.login({ username: 'bench-js-' + mode }, (success) => {
  if (!success) { process.stderr.write('login failed\n'); process.exit(2) }
  if (mode === 'provide') provide()
  else make(parseInt(count, 10))
})

function provide () {
  client.rpc.provide(name, (data, response) => response.send(data))
  // a round trip through the server: the provider is registered when it returns
  client.record.head('__bench_sync__', () => process.stdout.write('READY\n'))
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
    const total = Number(process.hrtime.bigint() - t0) / 1000
    lat.sort((a, b) => a - b)
    process.stdout.write('BENCH ' + JSON.stringify({
      n: n, total_us: total, p50_us: lat[Math.floor(n / 2)], p99_us: lat[Math.floor(n * 99 / 100) - 1],
      failed: failed, first_error: firstError, errors: []
    }) + '\n')
    client.close()
    setTimeout(() => process.exit(0), 100)
  }
  next()
}
