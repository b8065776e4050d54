/* Points-supermarket basket (templates/rewards/basket.html): the +/- buttons change a line's
   quantity and the total is shown as it grows. Display only: the server computes the total
   in exact decimals and refuses an overspend. Amounts are handled in whole cents here.
   Back from the receipt must not show the redeemed basket again (a second confirm would
   charge twice under a fresh key): quantities the browser restored, or a page kept in the
   back/forward cache, go back to what the server rendered. */
(function () {
  "use strict";
  var form = document.querySelector("[data-basket]");
  if (!form) { return; }
  var totalEl = form.querySelector("[data-basket-total]");
  var overEl = form.querySelector("[data-basket-over]");
  var balanceEl = document.querySelector("[data-balance-cents]");
  var balance = balanceEl ? parseInt(balanceEl.getAttribute("data-balance-cents"), 10) : null;

  function fmt(cents) {
    var s = (cents / 100).toFixed(2);
    return s.replace(/\.00$/, "").replace(/(\.\d)0$/, "$1");
  }

  function update() {
    var total = 0;
    form.querySelectorAll(".basket-item").forEach(function (card) {
      var input = card.querySelector(".qty-input");
      var q = parseInt(input.value, 10);
      if (q > 0) { total += q * parseInt(card.getAttribute("data-price-cents"), 10); }
      card.classList.toggle("basket-chosen", q > 0);
    });
    totalEl.textContent = fmt(total);
    if (overEl && balance !== null) { overEl.classList.toggle("d-none", total <= balance); }
  }

  var touched = false;   // the cadre has changed a quantity: pageshow must not undo it
  form.addEventListener("click", function (event) {
    var btn = event.target.closest("[data-qty]");
    if (!btn) { return; }
    touched = true;
    var input = btn.parentElement.querySelector(".qty-input");
    var max = parseInt(input.getAttribute("max"), 10);
    var q = (parseInt(input.value, 10) || 0) + parseInt(btn.getAttribute("data-qty"), 10);
    q = Math.max(0, Math.min(q, isNaN(max) ? 99 : max));
    input.value = q > 0 ? String(q) : "";
    update();
  });
  form.addEventListener("input", function () { touched = true; update(); });

  function reset() {
    form.querySelectorAll(".qty-input").forEach(function (input) {
      input.value = input.defaultValue;
    });
    update();
  }

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); return; }  // a cached page: render anew
    if (!touched) { reset(); }   // restored by the browser, not tapped before pageshow
  });
  reset();
  // every handler is in place: a tap on + or - counts from now on (app.css greys them till
  // then, and browser tests wait for it: a loaded CI run lost a tap made before)
  form.setAttribute("data-ready", "1");
})();
