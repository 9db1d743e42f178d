// Personal notice template form: the SMS length in segments as it is typed (GSM-7 160/153, UCS-2 70/67),
// the same rule as broadcasts/personal/rendering.py sms_length.
(function () {
  const GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const EXTENDED = "^{}\\[~]|€\f";
  function length(text) {
    const chars = Array.from(text);
    if (chars.every(function (c) { return GSM7.includes(c) || EXTENDED.includes(c); })) {
      const units = chars.reduce(function (n, c) { return n + (EXTENDED.includes(c) ? 2 : 1); }, 0);
      return {encoding: "GSM-7", units: units, segments: units === 0 ? 0 : units <= 160 ? 1 : Math.ceil(units / 153)};
    }
    const units = text.length; // UTF-16 code units, as UCS-2 counts them
    return {encoding: "UCS-2", units: units, segments: units <= 70 ? 1 : Math.ceil(units / 67)};
  }
  document.querySelectorAll("[data-sms-counter]").forEach(function (output) {
    const field = document.getElementById(output.dataset.smsCounter);
    const fallback = document.getElementById(output.dataset.smsFallback);
    const template = output.dataset.template; // "{units} … {segments} … {encoding}", translated by the server
    function update() {
      const text = field.value || (fallback ? fallback.value : "");
      const l = length(text);
      output.textContent = template.replace("{units}", l.units).replace("{segments}", l.segments).replace("{encoding}", l.encoding);
    }
    field.addEventListener("input", update);
    if (fallback) fallback.addEventListener("input", update);
    update();
  });
})();
