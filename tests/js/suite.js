// One scenario group over one transport and serializer: two autobahn-js sessions ("a" is the
// callee and subscriber, "b" the caller and publisher) exercise join, RPC, errors, progressive
// results, pub/sub with exclusion, pattern subscriptions and registrations, disclosure,
// unregister/unsubscribe and a clean leave. Every observation is reported; nothing is asserted.
'use strict';

const { autobahn, config, emit, deadline, join, collector } = require('./common.js');

const P = config.prefix || 'com.example.js';
const binary = config.serializer !== 'json' && config.transport !== 'rawsocket';

async function main() {
  deadline(config.deadline || 20);
  const a = await join(config);
  const b = await join(config);
  emit('a.join', { id: a.session.id, details: a.details });
  emit('b.join', { id: b.session.id, details: b.details });

  // --- RPC --------------------------------------------------------------------------------
  await a.session.register(`${P}.add`, (args) => args[0] + args[1]);
  await a.session.register(`${P}.echo`, (args, kwargs) => new autobahn.Result(args, kwargs));
  await a.session.register(`${P}.fail`, (args) => {
    throw new autobahn.Error('com.example.failed', [args[0], 'x'], { why: 'test' });
  });
  await a.session.register(`${P}.details`, (args, kwargs, details) => ({
    procedure: details.procedure,
    caller: details.caller,
    caller_authrole: details.caller_authrole,
    receive_progress: details.progress !== null,
  }));
  await a.session.register(`${P}.stream`, (args, kwargs, details) => {
    for (let i = 0; i < args[0]; i++) {
      if (details.progress) details.progress([i], { chunk: i });
    }
    return 'done';
  });
  await a.session.register(`${P}.pfx.`, (args, kwargs, details) => details.procedure, {
    match: 'prefix',
  });
  await a.session.register(`${P}..wild`, (args, kwargs, details) => details.procedure, {
    match: 'wildcard',
  });

  emit('call.add', await b.session.call(`${P}.add`, [2, 3]));
  emit('call.echo', await b.session.call(`${P}.echo`, [1, 'two', null, 2.5], { k: { n: [1] } }));
  emit('call.kwonly', await b.session.call(`${P}.echo`, [], { only: true }));
  emit('call.noargs', await b.session.call(`${P}.echo`));
  if (binary) {
    const bytes = Buffer.from([0, 1, 2, 255]);
    emit('call.binary', await b.session.call(`${P}.echo`, [bytes], { b: bytes }));
  }
  emit('call.fail', await b.session.call(`${P}.fail`, [7]).then(null, (error) => error));
  emit('call.missing', await b.session.call(`${P}.missing`).then(null, (error) => error));
  emit('call.details.plain', await b.session.call(`${P}.details`));
  emit(
    'call.details.disclosed',
    await b.session.call(`${P}.details`, [], {}, { disclose_me: true }),
  );

  // Progressive results are notifications on the (when.js) promise: then()'s third callback.
  const progress = [];
  const final = await b.session
    .call(`${P}.stream`, [3], {}, { receive_progress: true })
    .then(null, (error) => error, (chunk) => progress.push(chunk));
  emit('call.progressive', { progress, final });
  emit('call.progressive.unrequested', await b.session.call(`${P}.stream`, [3]));

  emit('call.prefix', await b.session.call(`${P}.pfx.one.two`));
  emit('call.wildcard', await b.session.call(`${P}.any.wild`));

  const reg = await a.session.register(`${P}.temp`, () => 'here');
  emit('call.temp', await b.session.call(`${P}.temp`));
  await a.session.unregister(reg);
  emit('call.temp.after', await b.session.call(`${P}.temp`).then(null, (error) => error));

  // --- pub/sub ----------------------------------------------------------------------------
  // "a" expects 5 events on its exact subscription, "b" (the publisher) exactly one: the one
  // published with exclude_me=false. Events to one subscriber arrive in publication order, so
  // once the last one is in, any event that should not have come would have come already.
  const aEvents = collector(5);
  const bEvents = collector(1);
  const record = (sink) => (args, kwargs, details) =>
    sink.push({
      args,
      kwargs,
      topic: details.topic,
      publication: details.publication,
      publisher: details.publisher,
      publisher_authrole: details.publisher_authrole,
    });
  await a.session.subscribe(`${P}.topic`, record(aEvents));
  await b.session.subscribe(`${P}.topic`, record(bEvents));
  const patternEvents = collector(2);
  await a.session.subscribe(`${P}.news.`, record(patternEvents), { match: 'prefix' });
  await a.session.subscribe(`${P}..alerts`, record(patternEvents), { match: 'wildcard' });

  const acked = await b.session.publish(`${P}.topic`, ['one'], { n: 1 }, { acknowledge: true });
  emit('publish.ack', { id: acked.id });
  b.session.publish(`${P}.topic`, ['two']); // not acknowledged
  const both = await b.session.publish(`${P}.topic`, ['three'], {}, {
    acknowledge: true,
    exclude_me: false,
  });
  await b.session.publish(`${P}.topic`, ['four'], {}, { acknowledge: true, disclose_me: true });
  if (binary) {
    await b.session.publish(`${P}.topic`, [Buffer.from([9, 8, 0])], {}, { acknowledge: true });
  } else {
    await b.session.publish(`${P}.topic`, ['five'], {}, { acknowledge: true });
  }
  await b.session.publish(`${P}.news.sport.results`, ['goal'], {}, { acknowledge: true });
  await b.session.publish(`${P}.eu.alerts`, ['storm'], {}, { acknowledge: true });
  emit('a.events', await aEvents.full);
  emit('b.events', await bEvents.full);
  emit('publish.both.id', both.id);
  emit('pattern.events', await patternEvents.full);

  // Unsubscribe: after it, an acknowledged publication reaches "b" (exclude_me=false) but no
  // longer "a"; "a" is also subscribed to nothing that matches, so it stays quiet.
  const extra = collector(1);
  const sub = await a.session.subscribe(`${P}.gone`, record(extra));
  await a.session.unsubscribe(sub);
  const bGone = collector(1);
  await b.session.subscribe(`${P}.gone`, record(bGone));
  await b.session.publish(`${P}.gone`, ['after'], {}, { acknowledge: true, exclude_me: false });
  emit('unsubscribe', { b: await bGone.full, a: extra.items });

  // --- leave ------------------------------------------------------------------------------
  a.connection.close();
  b.connection.close();
  emit('a.closed', await a.closed);
  emit('b.closed', await b.closed);
  emit('done', true);
  process.exit(0);
}

main();
