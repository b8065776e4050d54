/* The score form shows only the inputs the chosen rule item needs (its kind, bonus points,
   the member for per-person items) and offers a tiered item's levels. Without JavaScript
   every input stays visible and the server still checks everything. */
(function () {
  "use strict";
  var form = document.querySelector("form input[name=item_id]") &&
             document.querySelector("form input[name=item_id]").form;
  if (!form) { return; }
  function sync() {
    var chosen = form.querySelector("input[name=item_id]:checked");
    var kind = chosen ? chosen.getAttribute("data-kind") : "";
    form.querySelectorAll("[data-for-kind]").forEach(function (box) {
      var kinds = box.getAttribute("data-for-kind").split(" ");
      var show = kinds.indexOf(kind) >= 0 || box.querySelector(".is-invalid");
      box.hidden = !show;
    });
    var bonus = form.querySelector("[data-for-bonus]");
    if (bonus) { bonus.hidden = !(chosen && chosen.getAttribute("data-bonus") === "1"); }
    var person = form.querySelector("[data-for-person]");
    if (person) { person.hidden = !(chosen && chosen.getAttribute("data-person") === "1"); }
    var list = document.getElementById("tier-options");
    if (list) {
      list.innerHTML = "";
      var tiers = chosen ? (chosen.getAttribute("data-tiers") || "") : "";
      tiers.split("|").filter(Boolean).forEach(function (label) {
        var option = document.createElement("option");
        option.value = label;
        list.appendChild(option);
      });
    }
  }
  form.addEventListener("change", sync);
  sync();
})();
