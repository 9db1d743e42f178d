// Language switch: remember the choice on the citizen (when on an account page), then Django's set_language.
(function () {
  "use strict";
  var form = document.getElementById("lang-form");
  var select = document.getElementById("lang-select");
  if (!form || !select) return;
  select.addEventListener("change", function () {
    var boot = document.getElementById("oa-boot");
    var submit = function () { form.submit(); };
    if (!boot) return submit();
    var urls = JSON.parse(boot.textContent).urls;
    var token = document.querySelector('meta[name="csrf-token"]').content;
    fetch(urls.profile, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ language: select.value })
    }).then(submit, submit);
  });
})();
