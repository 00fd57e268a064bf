// Progressive enhancement for the import page: pick a CSV file and its text fills the
// textarea (the form itself posts the text, so it works without this script too).
(function () {
  "use strict";
  var picker = document.getElementById("csv-file");
  var text = document.getElementById("csv");
  if (!picker || !text || !window.FileReader) {
    return;
  }
  picker.hidden = false;
  picker.previousElementSibling.hidden = false;
  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    if (!file) {
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      text.value = String(reader.result);
    };
    reader.readAsText(file);
  });
})();
