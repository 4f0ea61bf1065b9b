// Shared by the autobahn-js client scripts that tests/test_interop_autobahn_js.py runs.
//
// A script gets one JSON argument (router address, transport, serializer, ...) and reports what
// it observed as JSON lines on stdout, {"k": key, "v": value}; the Python test makes the
// assertions, so a failure names the value that was wrong. Binary values are shown as
// {"$bytes": hex} (with "$u8": true when autobahn-js handed over a plain Uint8Array), results
// and errors as {"$result": ...} / {"$error": ...}. autobahn's own log lines go to stderr.
'use strict';

const autobahn = require('autobahn');

const SERIALIZERS = {
  json: autobahn.serializer.JSONSerializer,
  msgpack: autobahn.serializer.MsgpackSerializer,
  cbor: autobahn.serializer.CBORSerializer,
};

const config = JSON.parse(process.argv[2] || '{}');

function show(value) {
  if (value === undefined) return null;
  if (Buffer.isBuffer(value)) return { $bytes: value.toString('hex') };
  if (value instanceof Uint8Array) {
    return { $bytes: Buffer.from(value).toString('hex'), $u8: true };
  }
  if (value instanceof autobahn.Result) {
    return { $result: { args: show(value.args), kwargs: show(value.kwargs) } };
  }
  if (value instanceof autobahn.Error) {
    return { $error: { error: value.error, args: show(value.args), kwargs: show(value.kwargs) } };
  }
  if (value instanceof Error) return { $exception: String(value) };
  if (Array.isArray(value)) return value.map(show);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) out[key] = show(value[key]);
    return out;
  }
  return value;
}

function emit(key, value) {
  process.stdout.write(JSON.stringify({ k: key, v: show(value) }) + '\n');
}

// Turn a {"$bytes": hex} argument from the test into a Buffer (and a Uint8Array if asked).
function unshow(value) {
  if (Array.isArray(value)) return value.map(unshow);
  if (value !== null && typeof value === 'object') {
    if (typeof value.$bytes === 'string') {
      const buf = Buffer.from(value.$bytes, 'hex');
      return value.$u8 ? new Uint8Array(buf) : buf;
    }
    const out = {};
    for (const key of Object.keys(value)) out[key] = unshow(value[key]);
    return out;
  }
  return value;
}

// Never hang: the Python side has its own timeout, this one says where we were.
function deadline(seconds) {
  const timer = setTimeout(() => {
    emit('timeout', seconds);
    process.exit(3);
  }, seconds * 1000);
  timer.unref();
}

function fail(error) {
  emit('failed', String((error && error.stack) || error));
  process.exit(2);
}

process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);

function connectionOptions(cfg) {
  const transport = cfg.transport === 'rawsocket'
    ? { type: 'rawsocket', host: cfg.host, port: cfg.port }
    : { type: 'websocket', url: cfg.url, serializers: [new SERIALIZERS[cfg.serializer]()] };
  return {
    realm: cfg.realm || 'realm1',
    transports: [transport],
    max_retries: 0,
    retry_if_unreachable: false,
  };
}

// Open a connection and join; resolves {connection, session, details}. `closed` resolves with
// what Connection.onclose reported once the connection is over.
function join(cfg) {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection(connectionOptions(cfg));
    let opened = false;
    const closed = new Promise((closedResolve) => {
      connection.onclose = (reason, details) => {
        closedResolve({ reason, details: { reason: details.reason, message: details.message } });
        if (!opened) reject(new Error(`connection closed before join: ${reason}`));
        return true; // never retry
      };
    });
    connection.onopen = (session, details) => {
      opened = true;
      resolve({ connection, session, details, closed });
    };
    connection.open();
  });
}

// A promise that resolves once `count` items have been pushed onto the returned list.
function collector(count) {
  const items = [];
  let done;
  const full = new Promise((resolve) => {
    done = resolve;
  });
  return {
    items,
    full,
    push(item) {
      items.push(item);
      if (items.length >= count) done(items);
    },
  };
}

module.exports = { autobahn, config, show, unshow, emit, deadline, fail, join, collector };
