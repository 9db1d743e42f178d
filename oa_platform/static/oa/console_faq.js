// Console FAQ review: choosing an entry in a group's "other entry" list selects the "other" radio of that group.
(function () {
  "use strict";
  document.querySelectorAll("select[data-other-radio]").forEach(function (select) {
    select.addEventListener("change", function () {
      var radio = document.getElementById(select.getAttribute("data-other-radio"));
      if (radio && select.value) radio.checked = true;
    });
  });
})();
