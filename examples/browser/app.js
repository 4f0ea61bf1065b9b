// The browser side of the demo: autobahn-js (the autobahn-browser bundle, vendored next to this
// file by build.py) joins the router that serves this page and exercises RPC and pub/sub both
// ways with the Python peer in peer.py. Every outcome becomes a row of #results whose
// data-key / data-value (JSON) attributes tests/test_browser.py reads back from the DOM.
//
// Query parameters: serializer (json | msgpack | cbor; default json), realm (default realm1),
// prefix (URI prefix shared with the Python peer; default com.example.demo), url (the router's
// WebSocket URL; default the /ws path of the server that served this page).
"use strict";

(function () {
  var query = new URLSearchParams(window.location.search);
  var serializerName = query.get("serializer") || "json";
  var realm = query.get("realm") || "realm1";
  var prefix = query.get("prefix") || "com.example.demo";
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = query.get("url") || scheme + window.location.host + "/ws";
  var EVENTS_EXPECTED = 3; // peer.py publishes this many events to the browser

  var state = document.getElementById("state");
  var rows = document.getElementById("results");
  var demo = (window.demo = { done: false, failed: null, results: {} });

  function show(key, value, ok) {
    demo.results[key] = value;
    var row = document.querySelector('tr[data-key="' + key + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.key = key;
      row.innerHTML = "<td></td><td></td><td><code></code></td>";
      rows.appendChild(row);
    }
    row.dataset.value = JSON.stringify(value);
    row.cells[0].textContent = key;
    row.cells[1].textContent = ok === false ? "\u2717" : "\u2713";
    row.cells[1].className = ok === false ? "bad" : "ok";
    row.cells[2].firstChild.textContent = JSON.stringify(value);
  }

  function fail(step, err) {
    var text = step + ": " + (err && err.error ? err.error : String(err));
    demo.failed = text;
    state.textContent = "failed";
    state.className = "failed";
    show("failed", text, false);
  }

  // An autobahn-js call error (autobahn.Error) as plain data.
  function errorOf(err) {
    return { error: err.error, args: err.args || [], kwargs: err.kwargs || {} };
  }

  var serializers = {
    json: autobahn.serializer.JSONSerializer,
    msgpack: autobahn.serializer.MsgpackSerializer,
    cbor: autobahn.serializer.CBORSerializer,
  };
  if (!serializers[serializerName]) {
    fail("setup", "unknown serializer " + serializerName + " (json, msgpack or cbor)");
    return;
  }

  var pending = { events: true, greet: true, python: true, steps: true };
  function finished(what) {
    delete pending[what];
    if (Object.keys(pending).length === 0 && !demo.failed) {
      demo.done = true;
      state.textContent = "done";
      state.className = "done";
    }
  }

  var connection = new autobahn.Connection({
    url: url,
    realm: realm,
    serializers: [new serializers[serializerName]()],
    max_retries: 0,
  });

  connection.onclose = function (reason, details) {
    if (!demo.done) {
      fail("connection", reason + " " + JSON.stringify(details));
    }
    return true; // no reconnection
  };

  connection.onopen = function (session, details) {
    state.textContent = "joined";
    state.className = "joined";
    document.getElementById("session").textContent =
      "#" + session.id + " as " + details.authid + " (" + details.authrole + ", " +
      serializerName + ")";
    show("join", {
      session: session.id,
      authid: details.authid,
      authrole: details.authrole,
      serializer: serializerName,
    });
    run(session).catch(function (err) {
      fail("demo", err);
    });
  };

  async function run(session) {
    var events = [];
    var slowStarted = null;

    // Python calls this one once the browser says it is ready.
    await session.register(prefix + ".browser.greet", function (args, kwargs, details) {
      var answer = "hello " + args[0] + ", from the browser over " + serializerName;
      show("invoked.greet", { args: args, kwargs: kwargs, answer: answer });
      finished("greet");
      return answer;
    });
    await session.subscribe(prefix + ".to_browser", function (args, kwargs) {
      events.push({ args: args, kwargs: kwargs });
      show("events.to_browser", events);
      if (events.length === EVENTS_EXPECTED) {
        finished("events");
      }
    });
    await session.subscribe(prefix + ".python_done", function (args, kwargs) {
      show("python.saw", kwargs);
      finished("python");
    });
    await session.subscribe(prefix + ".slow.started", function () {
      if (slowStarted) {
        slowStarted();
      }
    });

    show("call.add", await session.call(prefix + ".python.add", [2, 3]));

    try {
      await session.call(prefix + ".python.fail", [7]);
      show("call.fail", "no error", false);
    } catch (err) {
      show("call.fail", errorOf(err));
    }

    var progress = [];
    var final = await session
      .call(prefix + ".python.count", [3], {}, { receive_progress: true })
      .then(null, null, function (part) {
        progress.push(part); // one positional result: the value itself
      });
    show("call.progressive", { progress: progress, final: final });

    // wamp-spec §4.5: cancel a call the Python callee is working on ("kill": the router
    // interrupts the callee and answers the caller with wamp.error.canceled).
    var started = new Promise(function (resolve) {
      slowStarted = resolve;
    });
    var slow = session.call(prefix + ".python.slow", [], {}, {});
    await started;
    slow.cancel({ mode: "kill" });
    try {
      await slow;
      show("call.cancel", "not canceled", false);
    } catch (err) {
      show("call.cancel", errorOf(err));
    }

    var ack = await session.publish(
      prefix + ".from_browser",
      ["hi from the browser", serializerName],
      { n: 1 },
      { acknowledge: true }
    );
    show("publish.from_browser", { acknowledged: typeof ack.id === "number" });

    // Tells the Python peer to call the browser's procedure and publish to it.
    await session.publish(prefix + ".browser_ready", [session.id], {}, { acknowledge: true });
    show("ready", true);
    finished("steps");
  }

  connection.open();
})();
