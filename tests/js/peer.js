// One autobahn-js session facing a wampcore asyncio client through the router (the mixed
// tests). config.mode is "serve" or "call":
//
// serve: register {P}.echo / .nothing / .fail / .stream / .u8, subscribe {P}.news and
//        {P}.quit, report "ready", then every invocation and event as it arrives; an event on
//        {P}.quit makes it leave (the publisher's last action, so all else has arrived).
// call:  call what the Python side registered under {P} (echo, fail, count with progress,
//        details with disclose_me), publish to {P}.news (acknowledged, disclosed), report
//        every outcome and leave.
//
// Binary values go in only when the serializer can carry them (autobahn-js's JSON serializer
// has no binary convention): config.binary.
'use strict';

const { autobahn, config, emit, deadline, join } = require('./common.js');

const P = config.prefix;
const BYTES = Buffer.from([0, 1, 2, 254, 255]);

function kinds(values) {
  return values.map((v) => (Buffer.isBuffer(v) ? 'Buffer' : v instanceof Uint8Array ? 'Uint8Array' : typeof v));
}

async function serve(s) {
  await s.register(`${P}.echo`, (args, kwargs) => {
    emit('invocation.echo', { args, kwargs, kinds: kinds(args) });
    return new autobahn.Result(args, kwargs);
  });
  await s.register(`${P}.nothing`, () => undefined);
  await s.register(`${P}.fail`, (args) => {
    const payload = config.binary ? [args[0], BYTES] : [args[0]];
    throw new autobahn.Error('com.example.js.failed', payload, { why: 'js' });
  });
  await s.register(`${P}.stream`, (args, kwargs, details) => {
    emit('invocation.stream', { receive_progress: details.progress !== null });
    for (let i = 0; i < args[0]; i++) {
      if (details.progress) details.progress([i]);
    }
    return 'done';
  });
  await s.register(`${P}.u8`, () => new Uint8Array(BYTES));
  await s.subscribe(`${P}.news`, (args, kwargs, details) => {
    emit('event', { args, kwargs, kinds: kinds(args), topic: details.topic, publisher: details.publisher });
  });
  let leave;
  const quit = new Promise((resolve) => {
    leave = resolve;
  });
  // An event rather than a call: nothing then waits on an answer from a session that leaves.
  await s.subscribe(`${P}.quit`, () => leave());
  return { quit }; // wrapped: an async function's returned promise would be awaited too
}

async function call(s) {
  const bin = config.binary ? [BYTES, new Uint8Array(BYTES)] : [];
  const settle = (promise) => promise.then((value) => value, (error) => error);
  emit('call.echo', await settle(s.call(`${P}.echo`, [1, 'two', 2.5, null, ...bin], { k: 'v', b: config.binary ? BYTES : 'no' })));
  emit('call.fail', await settle(s.call(`${P}.fail`, [7])));
  emit('call.missing', await settle(s.call(`${P}.missing`)));
  const progress = [];
  const final = await s
    .call(`${P}.count`, [3], {}, { receive_progress: true })
    .then(null, (error) => error, (chunk) => progress.push(chunk));
  emit('call.progressive', { progress, final });
  emit('call.details', await settle(s.call(`${P}.details`, [], {}, { disclose_me: true })));
  const pub = await s.publish(`${P}.news`, ['hello', ...bin], { n: 1 }, { acknowledge: true, disclose_me: true });
  emit('published', pub.id);
}

async function main() {
  deadline(config.deadline || 20);
  const j = await join(config);
  emit('join', { id: j.session.id, authrole: j.details.authrole, protocol: j.details.transport.protocol });
  if (config.mode === 'serve') {
    const { quit } = await serve(j.session);
    emit('ready', j.session.id);
    await quit;
  } else {
    await call(j.session);
  }
  j.connection.close();
  emit('closed', await j.closed);
  emit('done', true);
  process.exit(0);
}

main();
