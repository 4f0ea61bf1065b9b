// Authentication scenarios for tests/test_interop_autobahn_js_auth.py: autobahn-js sessions
// join an auth realm of `wampcore router --config` with ticket, WAMP-CRA (plain and salted, the
// key derived by autobahn.auth_cra.derive_key) and cryptosign (tweetnacl through
// autobahn.auth_cryptosign), each once with the right credential and once with a wrong one.
//
// config: the transport (as common.js takes it), `backend` {realm, authid, ticket} -- a session
// that registers {P}.whoami (answers what INVOCATION.Details disclose about the caller) and
// config.denied (a URI the callers' role denies) -- and `cases`, run in order, each
// {name, realm, method, authid, ticket | secret | password | seed (hex Ed25519 private key)}.
// Reports per case: "<name>.welcome" (WELCOME.Details, the challenge method and extra keys the
// client saw, then whoami and admin call outcomes) or "<name>.refused" (what Connection.onclose
// reported and the challenges seen). Nothing is asserted here.
'use strict';

const { autobahn, config, emit, deadline } = require('./common.js');

const P = config.prefix || 'com.auth.api.js';

// The CHALLENGE answer for one case (autobahn-js's own helpers), recording what was asked.
function onchallenge(testCase, seen) {
  return (session, method, extra) => {
    const shown = { method, keys: Object.keys(extra).sort() };
    for (const key of ['salt', 'iterations', 'keylen']) {
      if (key in extra) shown[key] = extra[key];
    }
    seen.push(shown);
    if (method === 'ticket') return testCase.ticket;
    if (method === 'wampcra') {
      const key = extra.salt
        ? autobahn.auth_cra.derive_key(testCase.password, extra.salt, extra.iterations, extra.keylen)
        : testCase.secret;
      return autobahn.auth_cra.sign(key, extra.challenge);
    }
    if (method === 'cryptosign') return autobahn.auth_cryptosign.sign_challenge(testCase.pkey, extra);
    throw new Error(`no answer for ${method}`);
  };
}

function authOptions(testCase, seen) {
  if (testCase.method === 'anonymous') return {};
  const options = {
    authmethods: [testCase.method],
    onchallenge: onchallenge(testCase, seen),
  };
  if (testCase.authid) options.authid = testCase.authid;
  if (testCase.method === 'cryptosign') {
    testCase.pkey = autobahn.nacl.sign.keyPair.fromSeed(Buffer.from(testCase.seed, 'hex'));
    // The HELLO authextra autobahn.auth_cryptosign.create_connection sends (minus the
    // activation-code fields, which are undefined there).
    options.authextra = {
      pubkey: autobahn.auth_cryptosign.public_key(testCase.pkey),
      trustroot: null,
      challenge: null,
      channel_binding: null,
    };
  }
  return options;
}

const SERIALIZERS = {
  json: autobahn.serializer.JSONSerializer,
  msgpack: autobahn.serializer.MsgpackSerializer,
  cbor: autobahn.serializer.CBORSerializer,
};

// Join or be refused: {joined: true, connection, session, details, closed} or
// {joined: false, closed}; `closed` is what Connection.onclose reported.
function attempt(realm, options) {
  const transport = config.transport === 'rawsocket'
    ? { type: 'rawsocket', host: config.host, port: config.port }
    : { type: 'websocket', url: config.url, serializers: [new SERIALIZERS[config.serializer]()] };
  return new Promise((resolve) => {
    const connection = new autobahn.Connection({
      realm,
      transports: [transport],
      max_retries: 0,
      retry_if_unreachable: false,
      ...options,
    });
    let opened = false;
    const closed = new Promise((closedResolve) => {
      connection.onclose = (reason, details) => {
        const what = { reason, details: { reason: details.reason, message: details.message } };
        closedResolve(what);
        if (!opened) resolve({ joined: false, closed: what });
        return true; // never retry
      };
    });
    connection.onopen = (session, details) => {
      opened = true;
      resolve({ joined: true, connection, session, details, closed });
    };
    connection.open();
  });
}

const settle = (promise) => promise.then((value) => value, (error) => error);

async function main() {
  deadline(config.deadline || 20);
  const { backend } = config;
  const callee = await attempt(backend.realm, {
    authmethods: ['ticket'],
    authid: backend.authid,
    onchallenge: () => backend.ticket,
  });
  if (!callee.joined) throw new Error(`backend refused: ${JSON.stringify(callee.closed)}`);
  await callee.session.register(`${P}.whoami`, (args, kwargs, details) => ({
    caller: details.caller,
    caller_authid: details.caller_authid,
    caller_authrole: details.caller_authrole,
  }));
  await callee.session.register(config.denied, () => 'secret');

  for (const testCase of config.cases) {
    const seen = [];
    const got = await attempt(testCase.realm, authOptions(testCase, seen));
    if (!got.joined) {
      emit(`${testCase.name}.refused`, { closed: got.closed, challenges: seen });
      continue;
    }
    const details = {};
    for (const key of ['realm', 'authid', 'authrole', 'authmethod', 'authprovider', 'authextra']) {
      details[key] = got.details[key];
    }
    emit(`${testCase.name}.welcome`, {
      session: got.session.id,
      details,
      challenges: seen,
      whoami: await settle(got.session.call(`${P}.whoami`)),
      admin: await settle(got.session.call(config.denied)),
      register: await settle(got.session.register(`${P}.mine`, () => null).then(() => 'registered')),
    });
    got.connection.close();
    emit(`${testCase.name}.closed`, await got.closed);
  }

  callee.connection.close();
  emit('backend.closed', await callee.closed);
  emit('done', true);
  process.exit(0);
}

main();
