/* The results page updates itself: the socket /ws/staff/<slug>/forms/<id>/ says answers arrived (at most a
   few times a second, however many arrive), and the page fetches the results block again, drawn by the server. */
(function () {
  "use strict";
  var badge = document.getElementById("collect-live");
  var target = document.getElementById("collect-results");
  if (!badge || !target || !window.WebSocket) return;
  var refreshing = false, again = false, delay = 1000;

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(badge.dataset.liveUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) target.innerHTML = html; }, function () {})
      .finally(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + badge.dataset.ws);
    socket.onopen = function () {
      delay = 1000;
      badge.textContent = badge.dataset.tLive;
      badge.dataset.state = "live";
      refresh(); // whatever arrived while the socket was closed
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "results.changed") refresh();
    };
    socket.onclose = function (event) {
      badge.textContent = badge.dataset.tOffline;
      badge.dataset.state = "offline";
      if (event.code === 4403) return; // no longer allowed: stop
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
