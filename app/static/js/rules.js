/* The rule item form shows only the fields of the chosen kind (fixed, range, scorecard, rate,
   tiered, analogy). Without JavaScript every field shows and the server ignores the others. */
(function () {
  "use strict";
  var form = document.querySelector("[data-kind-form]");
  if (!form) { return; }
  var select = form.querySelector("[data-kind-select]");
  function update() {
    var kind = select.value;
    form.querySelectorAll(".kind-fields").forEach(function (set) {
      var kinds = set.getAttribute("data-kinds").split(" ");
      set.hidden = kinds.indexOf(kind) < 0;
    });
  }
  select.addEventListener("change", update);
  update();
})();
