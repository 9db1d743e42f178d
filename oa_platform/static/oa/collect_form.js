/* The web form page: answers are first saved on the phone (IndexedDB, with a client id made once per
   submission), then sent; a submission that could not be sent is retried when the network returns, on every
   page load and every RETRY_MS, until the server confirms it (201, or 200 for a client id it already has).
   The server stores one response per client id, so sending twice is harmless. */
(function () {
  "use strict";
  var root = document.getElementById("collect-form");
  if (!root) return;
  var form = document.getElementById("collect-answers");
  var statusBox = document.getElementById("collect-status");
  var errorList = document.getElementById("collect-errors");
  var submitUrl = root.dataset.submitUrl;
  var doneKey = "oa-collect-done:" + submitUrl;
  var RETRY_MS = 15000;
  var DB_NAME = "oa-collect";
  var STORE = "outbox";
  var sending = false;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- IndexedDB: the outbox of submissions not yet confirmed  ---
  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }
  function tx(mode, work) {
    return db().then(function (conn) {
      return new Promise(function (resolve, reject) {
        var t = conn.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function outboxPut(item) { return tx("readwrite", function (s) { return s.put(item); }); }
  function outboxDelete(id) { return tx("readwrite", function (s) { return s.delete(id); }); }
  function outboxMine() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).filter(function (i) { return i.url === submitUrl; })
        .sort(function (a, b) { return a.saved_at - b.saved_at; });
    });
  }

  // --- what the page says  ---
  function show(kind, text) {
    statusBox.hidden = false;
    statusBox.className = "collect-status " + kind;
    statusBox.dataset.state = kind;
    statusBox.textContent = text;
  }
  function showErrors(fields) {
    errorList.textContent = "";
    document.querySelectorAll(".collect-q").forEach(function (q) {
      q.classList.remove("invalid");
      var p = q.querySelector(".collect-q-error"); p.hidden = true; p.textContent = "";
    });
    var answers = (fields && fields.answers) || {};
    Object.keys(answers).forEach(function (key) {
      var q = document.getElementById("q-" + key);
      var text = String(answers[key]);
      if (q) {
        q.classList.add("invalid");
        var p = q.querySelector(".collect-q-error"); p.textContent = text; p.hidden = false;
      } else {
        var li = document.createElement("li"); li.textContent = key + ": " + text; errorList.appendChild(li);
      }
    });
    errorList.hidden = !errorList.children.length;
  }

  // --- reading and filling the form  ---
  function readAnswers() {
    var answers = {};
    document.querySelectorAll(".collect-q").forEach(function (q) {
      var key = q.dataset.key, type = q.dataset.type, value = null;
      if (type === "choice") {
        var r = q.querySelector("input:checked"); value = r ? r.value : null;
      } else if (type === "yes_no") {
        var yn = q.querySelector("input:checked"); value = yn ? yn.value === "yes" : null;
      } else if (type === "multiple") {
        value = Array.prototype.map.call(q.querySelectorAll("input:checked"), function (i) { return i.value; });
      } else if (type === "area") {
        var ward = q.querySelector(".collect-ward");
        value = (ward && !ward.hidden && ward.value) || q.querySelector(".collect-province").value || null;
      } else if (type === "number") {
        var n = q.querySelector("input").value.trim().replace(",", ".");
        value = n === "" ? null : (isNaN(Number(n)) ? n : Number(n));
      } else {
        var field = q.querySelector("input, textarea"); value = field.value.trim() || null;
      }
      if (value !== null && !(Array.isArray(value) && !value.length)) answers[key] = value;
    });
    return answers;
  }
  function fill(answers) {
    Object.keys(answers || {}).forEach(function (key) {
      var q = document.getElementById("q-" + key);
      if (!q) return;
      var value = answers[key], type = q.dataset.type;
      if (type === "choice" || type === "multiple" || type === "yes_no") {
        var wanted = type === "yes_no" ? [value ? "yes" : "no"] : [].concat(value);
        q.querySelectorAll("input").forEach(function (i) { i.checked = wanted.indexOf(i.value) >= 0; });
      } else if (type === "area") {
        q.querySelector(".collect-province").value = value;
      } else {
        q.querySelector("input, textarea").value = value;
      }
    });
  }

  // --- sending  ---
  function send(item) {
    return fetch(submitUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify({ client_id: item.client_id, answers: item.answers }),
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) {
        return response.json().then(function (body) {
          localStorage.setItem(doneKey, String(body.id));
          return outboxDelete(item.client_id).then(function () { return "received"; });
        });
      }
      if (response.status === 400 || response.status === 404 || response.status === 409) {
        // Refused for good (an answer to fix, a closed round): not retried; the answers stay in the form.
        return response.json().then(function (body) {
          return outboxDelete(item.client_id).then(function () { return { refused: body.error || {} }; });
        });
      }
      if (response.status === 429) {
        // Too many from this phone or its network: kept on the phone, sent again once the server says it may be
        var after = parseInt(response.headers.get("Retry-After"), 10);
        if (after > 0) setTimeout(flush, Math.min(after, 600) * 1000);
      }
      return "retry"; // 403 (an expired page), 429, 5xx: the server did not take it; try again later
    }, function () { return "retry"; }); // no network
  }

  function flush() {
    if (sending) return Promise.resolve();
    sending = true;
    return outboxMine().then(function (items) {
      if (!items.length) return;
      show("saved", root.dataset.tSaved);
      var chain = Promise.resolve("received");
      items.forEach(function (item) {
        chain = chain.then(function (previous) { return previous === "retry" ? "retry" : send(item); });
      });
      return chain.then(function (outcome) {
        if (outcome === "received") { show("received", root.dataset.tReceived); showErrors({}); }
        else if (outcome && outcome.refused) {
          show("refused", root.dataset.tRefused + " " + (outcome.refused.message || ""));
          showErrors(outcome.refused.fields);
        }
      });
    }).finally(function () { sending = false; });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var item = { client_id: uuid4(), url: submitUrl, answers: readAnswers(), saved_at: Date.now() };
      outboxPut(item).then(function () {
        show("saved", root.dataset.tSaved);
        return flush();
      });
    });
    // The area picker: wards of the chosen province (read through the service worker's cache offline).
    document.querySelectorAll(".collect-province").forEach(function (province) {
      province.addEventListener("change", function () {
        var ward = province.parentNode.querySelector(".collect-ward");
        while (ward.options.length > 1) ward.remove(1);
        ward.hidden = true;
        if (!province.value) return;
        fetch(root.dataset.areasUrl + "?parent=" + encodeURIComponent(province.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { areas: [] }; })
          .then(function (body) {
            body.areas.forEach(function (a) { ward.add(new Option(a.name, a.code)); });
            ward.hidden = !body.areas.length;
          }, function () {});
      });
    });
  }

  // On load: what this phone still holds for this form goes back into the form and out to the server.
  outboxMine().then(function (items) {
    if (items.length) { fill(items[items.length - 1].answers); show("saved", root.dataset.tSaved); }
    else if (localStorage.getItem(doneKey)) show("received", root.dataset.tReceived);
    return flush();
  });
  window.addEventListener("online", flush);
  setInterval(flush, RETRY_MS);

  // The service worker keeps this page and its files for the next visit without a network.
  if ("serviceWorker" in navigator && "caches" in window) {
    navigator.serviceWorker.register(root.dataset.swUrl).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      var files = [location.pathname];
      document.querySelectorAll('link[rel="stylesheet"], script[src]').forEach(function (el) {
        files.push(el.getAttribute("href") || el.getAttribute("src"));
      });
      return caches.open("oa-collect-v1").then(function (cache) { return cache.addAll(files); });
    }).then(function () { root.dataset.offlineReady = "1"; }, function () {});
  }
})();
