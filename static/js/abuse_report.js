// Child-safety lane: hide uploads and identity fields when "harm to minors" is chosen.
// The server refuses uploads in that category anyway; this only spares people the fields.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-minors]");
  if (!form) return;
  var minors = form.getAttribute("data-minors");
  var hidden = ["field-evidence", "field-identity"];
  function update() {
    var chosen = form.querySelector("input[name=category]:checked");
    var isMinors = chosen && chosen.value === minors;
    hidden.forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      el.hidden = isMinors;
      if (isMinors) el.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    });
  }
  form.addEventListener("change", update);
  update();
});
