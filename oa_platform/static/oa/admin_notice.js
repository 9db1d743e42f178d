// Notice change form: refresh the progress panel while the notice is being sent.
(function () {
  var panel = document.getElementById("oa-progress");
  if (!panel || panel.dataset.status !== "sending") return;
  function tick() {
    fetch(panel.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
      document.getElementById("oa-done").textContent = p.done;
      document.getElementById("oa-pct").textContent = p.percent;
      document.getElementById("oa-fill").value = p.percent;
      if (p.status !== "sending") { window.location.reload(); } else { setTimeout(tick, 2000); }
    }).catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
