// The account page: chat over a WebSocket (HTTP fallback), follow, settings, inbox. Plain ES5-ish, no build.
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("oa-boot").textContent);
  var T = JSON.parse(document.getElementById("oa-i18n").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var $ = function (id) { return document.getElementById(id); };
  var list = $("messages"), quick = $("quick"), input = $("chat-input"), conn = $("conn");
  var state = boot.state;
  var lastMessageId = 0, lastNoticeId = 0, seen = {}, noticeSeen = {}, unread = 0;
  var ws = null, wsOpen = false, everOpened = false, failures = 0, retryTimer = null, pollTimer = null;
  var refSeq = 0, pending = {};
  var MAX_BACKOFF = 30000, FALLBACK_AFTER = 2, POLL_MS = 5000;

  // --- HTTP  ---
  function api(url, method, body) {
    var opts = { method: method || "GET", credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = csrf;
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error((data.error && data.error.message) || r.statusText); e.status = r.status; e.data = data; throw e; }
        return data;
      });
    });
  }

  // --- rendering  ---
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  function botFromReply(reply) {
    return { id: reply.message_id, direction: "out", sender: "bot", text: reply.text, decision: reply.decision,
             faq: reply.faq, suggestions: reply.suggestions || [], helpful: null, offerHuman: !!reply.offer_human };
  }
  function addMessage(m) {
    if (!m || !m.id || seen[m.id]) return;
    seen[m.id] = true;
    if (m.id > lastMessageId) lastMessageId = m.id;
    if (m.direction === "in") dropPending(m.text);
    var li = el("li", "msg " + (m.direction === "in" ? "in" : "out") + (m.sender === "staff" ? " staff" : ""));
    li.dataset.id = m.id;
    if (m.sender === "staff") li.appendChild(el("span", "who", T.staff));
    if (m.direction === "out") appendLinked(li, withoutListedSuggestions(m.text, m.suggestions)); else li.appendChild(document.createTextNode(m.text));
    if (m.sender === "bot" && m.decision === "answer" && m.helpful === null) li.appendChild(feedbackBox(m.id));
    list.appendChild(li);
    if (m.direction === "out") showSuggestions(m.suggestions || [], m.offerHuman);
    if (m.sender === "staff") showHandoff("open");
    toBottom();
  }
  // The page itself scrolls: its end is the docked composer, so the newest message and the buttons both show.
  function toBottom() { window.scrollTo(0, document.documentElement.scrollHeight); }
  // Other channels get the suggestions as a numbered list in the text; here they are buttons, so the list goes.
  function withoutListedSuggestions(text, suggestions) {
    if (!suggestions || !suggestions.length) return text;
    var listed = {};
    suggestions.forEach(function (s, i) { listed[(i + 1) + ". " + s.question] = true; });
    return String(text).split("\n").filter(function (line) { return !listed[line.trim()]; }).join("\n");
  }
  // The empty chat offers a few of the account's questions to start with.
  function showStarters() {
    if (list.querySelector("li.msg:not(.welcome)") || quick.childNodes.length) return;
    (boot.starters || []).forEach(function (q) {
      var b = el("button", "starter", q);
      b.type = "button";
      b.addEventListener("click", function () { send(q); });
      quick.appendChild(b);
    });
  }
  // Web addresses and other accounts' pages ("/oa/<slug>/", a referral) in a reply become links; the rest stays text.
  var LINK = /(https?:\/\/[^\s<>"]+|\/oa\/[-\w]+\/)/g;
  function appendLinked(node, text) {
    var last = 0;
    text = String(text);
    text.replace(LINK, function (match, _g, at) {
      var url = match.replace(/[.,;:!?)\]]+$/, "");
      node.appendChild(document.createTextNode(text.slice(last, at)));
      var a = el("a", null, url);
      a.href = url;
      a.rel = "noopener";
      node.appendChild(a);
      last = at + url.length;
      return match;
    });
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  function feedbackBox(id) {
    var box = el("span", "feedback");
    box.appendChild(el("span", null, T.helpful));
    [[true, "👍", T.yes], [false, "👎", T.no]].forEach(function (v) {
      var b = el("button", null, v[1]);
      b.type = "button"; b.title = v[2]; b.setAttribute("aria-label", v[2]);
      b.dataset.helpful = v[0] ? "1" : "0";
      b.addEventListener("click", function () {
        api(boot.urls.feedback, "POST", { message_id: id, helpful: v[0] }).then(function () {
          box.textContent = T.thanks;
        }, function () { box.textContent = T.error; });
      });
      box.appendChild(b);
    });
    return box;
  }
  function showSuggestions(suggestions, offerHuman) {
    quick.textContent = "";
    suggestions.forEach(function (s) {
      var b = el("button", null, s.question);
      b.type = "button";
      b.addEventListener("click", function () { send(s.question); });
      quick.appendChild(b);
    });
    if (offerHuman) {  // the bot could not help: one tap asks for a person
      var h = el("button", "human", T.human);
      h.type = "button";
      h.id = "ask-human";
      h.addEventListener("click", function () { send(T.humanCommand); });
      quick.appendChild(h);
    }
  }
  function addPending(text) {
    var ref = "r" + (++refSeq);
    var li = el("li", "msg in pending", text);
    list.appendChild(li);
    toBottom();
    pending[ref] = { li: li, text: text };
    return ref;
  }
  function dropPending(text, ref) {
    var key = ref && pending[ref] ? ref : null;
    if (!key) { for (var k in pending) { if (pending[k].text === text) { key = k; break; } } }
    if (key) { pending[key].li.remove(); delete pending[key]; }
  }
  function failPending(ref, message) {
    var p = pending[ref];
    if (!p) return;
    p.li.className = "msg in failed";
    p.li.title = message;
    p.li.appendChild(el("span", "feedback", message));
    delete pending[ref];
  }
  function addNotice(n) {
    if (!n || noticeSeen[n.id]) return;
    noticeSeen[n.id] = true;
    if (n.id > lastNoticeId) lastNoticeId = n.id;
    var severity = T.severity[n.severity] ? n.severity : "moderate";
    var li = el("li", "notice sev-" + severity + " kind-" + (n.kind || "alert"));
    li.dataset.id = n.id;
    li.appendChild(el("span", "sev-label", T.severity[severity]));
    li.appendChild(el("h3", null, n.title));
    if (n.sent_at) { var t = el("time", null, new Date(n.sent_at).toLocaleString(document.documentElement.lang || undefined)); t.dateTime = n.sent_at; li.appendChild(t); }
    li.appendChild(el("p", null, n.body));
    if (n.link && /^https?:\/\//i.test(n.link)) { var a = el("a", null, n.link); a.href = n.link; a.rel = "noopener"; li.appendChild(a); }
    var box = $("notices");
    box.insertBefore(li, box.firstChild);
    $("notices-empty").hidden = true;
    if (n.withdrawn) markWithdrawn(li);
    if (n.kind === "cancel" && n.references) markWithdrawn(box.querySelector('li[data-id="' + Number(n.references) + '"]'));
  }
  function markWithdrawn(li) {
    if (!li || li.classList.contains("withdrawn")) return;
    li.classList.add("withdrawn");
    li.insertBefore(el("span", "withdrawn-label", T.withdrawn), li.firstChild.nextSibling);
  }
  function countUnread(n) {
    if (!n) return;
    if (!$("panel-inbox").hidden) return;
    unread += n;
    $("inbox-count").textContent = unread;
    $("inbox-count").hidden = false;
  }

  // --- sending  ---
  function send(text) {
    text = (text || "").trim();
    if (!text) return;
    if (text.length > boot.maxText) text = text.slice(0, boot.maxText);
    var ref = addPending(text);
    quick.textContent = "";
    if (wsOpen) {
      ws.send(JSON.stringify({ type: "message", text: text, ref: ref }));
      return;
    }
    api(boot.urls.messages, "POST", { text: text }).then(function (data) {
      onReply(data, ref);
    }, function (e) { failPending(ref, e.status === 429 ? T.tooMany : (e.message || T.error)); });
  }
  function onReply(data, ref) {
    dropPending(data.message && data.message.text, ref);
    addMessage(data.message);
    if (data.reply) addMessage(botFromReply(data.reply));
    if (data.conversation) showHandoff(data.conversation.status);
    else if (data.reply && data.reply.intent === "human") showHandoff("waiting");
  }
  // Waiting for staff, or talking with staff: the bot is quiet, so the page says so above the input.
  function showHandoff(status) {
    var text = status === "waiting" ? T.waiting : status === "open" ? T.withStaff : "";
    $("handoff-text").textContent = text;
    $("handoff").hidden = !text;
    $("back-to-bot").hidden = status !== "waiting";  // once staff took it over, the staff member closes it
  }
  $("back-to-bot").addEventListener("click", function () {
    var btn = this;
    btn.disabled = true;
    api(boot.urls["handoff/withdraw"], "POST", {}).then(function (data) {
      addMessage(data.message);
      showHandoff(data.conversation.status);
    }, function (e) { if (e.status === 409) showHandoff("bot"); else alert(T.error); }).then(function () { btn.disabled = false; });
  });

  // --- WebSocket with reconnect and catch-up  ---
  function setConn(text) { conn.textContent = text || ""; conn.hidden = !text; }
  function connect() {
    clearTimeout(retryTimer);
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    try { ws = new WebSocket(proto + location.host + boot.ws); } catch (e) { return onClose({ code: 1006 }, false); }
    ws.onopen = function () {
      wsOpen = true; everOpened = true; failures = 0;
      stopPolling(); setConn("");
      sync();
    };
    ws.onmessage = function (ev) {
      var f; try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "reply") onReply(f, f.ref);
      else if (f.type === "messages") { (f.messages || []).forEach(addMessage); if (f.more) sync(); }
      else if (f.type === "notices") { var before = lastNoticeId; (f.notices || []).forEach(addNotice); countUnread((f.notices || []).filter(function (n) { return n.id > before; }).length); }
      else if (f.type === "notice") { var fresh = !noticeSeen[f.notice.id]; addNotice(f.notice); if (fresh) countUnread(1); }
      else if (f.type === "error") {
        if (f.ref) failPending(f.ref, f.code === "rate_limited" ? T.tooMany : (f.message || T.error));
      }
    };
    ws.onclose = function (ev) { onClose(ev, wsOpen); };
  }
  function onClose(ev, wasOpen) {
    wsOpen = false; ws = null;
    for (var k in pending) { resendHttp(k); }
    if (ev.code === 4404) return;
    if (!wasOpen) failures++;
    // A socket that never opens (proxy without WebSocket support, blocked port): use the JSON endpoints.
    if ((!everOpened && failures >= FALLBACK_AFTER) || ev.code === 4401) startPolling();
    setConn(pollTimer ? T.fallback : T.offline);
    scheduleRetry();
  }
  function resendHttp(ref) {
    // A message sent on a socket that dropped before the reply: the catch-up (sync) shows it if it was stored.
    var p = pending[ref];
    if (p) setTimeout(function () { if (pending[ref]) { syncHttp(); } }, 1500);
  }
  function scheduleRetry() {
    var delay = Math.min(MAX_BACKOFF, 1000 * Math.pow(2, Math.min(failures, 5)));
    delay = delay / 2 + Math.random() * delay / 2;
    retryTimer = setTimeout(connect, delay);
  }
  function sync() {
    if (wsOpen) ws.send(JSON.stringify({ type: "sync", after_message: lastMessageId || null, after_notice: lastNoticeId || null }));
    else syncHttp();
  }
  function syncHttp() {
    api(boot.urls.history + "?after=" + lastMessageId).then(function (d) {
      (d.messages || []).forEach(addMessage);
    }, function () {});
    api(boot.urls.inbox + (lastNoticeId ? "?after=" + lastNoticeId : "")).then(function (d) {
      var before = lastNoticeId;
      (d.notices || []).forEach(addNotice);
      countUnread((d.notices || []).filter(function (n) { return n.id > before; }).length);
    }, function () {});
  }
  function startPolling() { if (!pollTimer) { pollTimer = setInterval(syncHttp, POLL_MS); syncHttp(); } }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }
  window.addEventListener("online", function () { if (!wsOpen) { failures = 0; connect(); } });

  // --- follow and settings  ---
  function applyState(s) {
    state = s;
    var btn = $("follow-btn");
    btn.dataset.following = s.following ? "1" : "0";
    btn.textContent = s.following ? T.unfollow : T.follow;
    btn.className = "btn" + (s.following ? "" : " primary");
    $("settings-locked").hidden = s.following;
    var status = $("subs-status");
    if (s.following && status.classList.contains("err")) { status.className = "status"; status.textContent = ""; }
    $("subs-form").classList.toggle("locked", !s.following);
    var boxes = document.querySelectorAll('#subs-form input[name="topics"]');
    s.topics.forEach(function (t) {
      for (var i = 0; i < boxes.length; i++) if (boxes[i].value === t.key) boxes[i].checked = t.subscribed;
    });
    var area = s.areas && s.areas[0];
    if (area) {
      var province = area.parent || area.code;
      $("province").value = province;
      loadWards(province, area.parent ? area.code : "");
    }
    $("phone-current").textContent = s.phone ? T.current + " " + s.phone : "";
    if (wsOpen) sync();  // the socket joins this citizen's group and reloads its notice filter
  }
  $("follow-btn").addEventListener("click", function () {
    var btn = this, following = btn.dataset.following === "1";
    btn.disabled = true;
    api(following ? boot.urls.unfollow : boot.urls.follow, "POST", {}).then(applyState, function () {
      alert(T.error);
    }).then(function () { btn.disabled = false; });
  });
  function loadWards(code, selected) {
    var ward = $("ward");
    ward.textContent = "";
    var all = el("option", null, T.wholeProvince); all.value = ""; ward.appendChild(all);
    ward.disabled = !code;
    if (!code) return Promise.resolve();
    return api(boot.urls.areas + "?parent=" + encodeURIComponent(code)).then(function (d) {
      d.areas.forEach(function (a) { var o = el("option", null, a.name); o.value = a.code; ward.appendChild(o); });
      ward.value = selected || "";
    }, function () {});
  }
  $("province").addEventListener("change", function () { loadWards(this.value, ""); });
  $("subs-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var status = $("subs-status");
    status.className = "status"; status.textContent = "";
    if (!state.following) { status.className = "status err"; status.textContent = T.followFirst; return; }
    var topics = [];
    document.querySelectorAll('#subs-form input[name="topics"]:checked').forEach(function (b) { topics.push(b.value); });
    var code = $("ward").value || $("province").value;
    api(boot.urls.subscriptions, "POST", { topics: topics, areas: code ? [code] : [] }).then(function (s) {
      applyState(s); status.textContent = T.saved;
    }, function (e) { status.className = "status err"; status.textContent = e.message || T.error; });
  });
  $("phone-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var status = $("phone-status");
    status.className = "status"; status.textContent = "";
    api(boot.urls.profile, "POST", { phone: $("phone").value.trim() }).then(function (s) {
      applyState(s); $("phone").value = ""; status.textContent = T.saved;
    }, function (e) { status.className = "status err"; status.textContent = e.message || T.error; });
  });

  // --- tabs and input  ---
  document.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll(".tab").forEach(function (t) {
        var on = t === tab;
        t.classList.toggle("active", on);
        t.setAttribute("aria-selected", on ? "true" : "false");
        $("panel-" + t.dataset.tab).hidden = !on;
      });
      if (tab.dataset.tab === "inbox") { unread = 0; $("inbox-count").hidden = true; }
    });
  });
  $("chat-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("chat-form").requestSubmit(); }
  });

  // --- start  ---
  boot.messages.forEach(addMessage);
  showStarters();
  showHandoff(boot.conversation);
  boot.notices.forEach(addNotice);
  applyState(state);
  connect();
  // Hooks for the browser test (and the console): state of the connection, and a simulated network drop.
  window.oaPage = {
    sync: sync,
    isLive: function () { return wsOpen; },
    isPolling: function () { return !!pollTimer; },
    drop: function () { if (ws) ws.close(); }
  };
})();
