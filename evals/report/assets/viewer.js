/* Sample viewer: renders rows page by page with DOM APIs and textContent only.
   The first rows come in the page's JSON block; the rest in data files (name.data/NNN.js, each a call of
   evalsViewerChunk) loaded one after the other by script elements, which work from file://. */
(function () {
  "use strict";
  var PAGE_SIZE = 50;
  var STATUS_ORDER = ["correct", "incorrect", "no_answer", "truncated", "ambiguous", "gold_unparseable", "timeout", "error"];
  var data = JSON.parse(document.getElementById("samples-data").textContent);
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var disagree = new Set(data.disagree);
  var state = { statuses: new Set(), agreement: "all", search: "", page: 0 };
  var rows = [];
  var haystacks = [];  // per row, the lower-cased text that search looks in
  var filtered = [];
  var chunksLoaded = 0;
  var firstChunk = { rows: data.rows, prompts: data.prompts, questions: data.questions, votes: data.votes };
  ["prompts", "questions", "votes"].forEach(function (key) { data[key] = {}; });

  function addRows(chunk) {
    ["prompts", "questions", "votes"].forEach(function (key) { Object.assign(data[key], chunk[key]); });
    chunk.rows.forEach(function (row) {
      row.haystack = [row[col.item], row[col.extracted], row[col.gold], row[col.answer]].join("\n").toLowerCase();
      rows.push(row);
      if (matches(row)) filtered.push(row);
    });
  }

  function loadNextChunk() {
    if (chunksLoaded >= data.chunk_files.length) {
      document.body.dataset.complete = "1";
      return;
    }
    var script = document.createElement("script");
    script.src = data.chunk_files[chunksLoaded];
    script.onerror = function () {
      document.getElementById("count").textContent += " (could not load " + script.src + ")";
    };
    document.body.appendChild(script);
  }

  window.evalsViewerChunk = function (chunk) {
    var before = filtered.length;
    addRows(chunk);
    chunksLoaded += 1;
    // Redraw only while the page on screen is not full; otherwise just the counts change.
    if (before < (state.page + 1) * PAGE_SIZE) render(); else showCount();
    loadNextChunk();
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function statusFilters() {
    var present = new Set(Object.keys(data.statuses));
    var ordered = STATUS_ORDER.filter(function (s) { return present.has(s); });
    present.forEach(function (s) { if (ordered.indexOf(s) < 0) ordered.push(s); });
    var box = document.getElementById("status-filter");
    ordered.forEach(function (status) {
      var count = data.statuses[status];
      var label = el("label", "check");
      var input = el("input");
      input.type = "checkbox";
      input.checked = true;
      input.value = status;
      input.name = "status";
      state.statuses.add(status);
      input.addEventListener("change", function () {
        if (input.checked) state.statuses.add(status); else state.statuses.delete(status);
        update(true);
      });
      label.appendChild(input);
      label.appendChild(el("span", "badge status-" + status, status.replace("_", " ")));
      label.appendChild(el("span", "muted", " " + count));
      box.appendChild(label);
    });
  }

  function matches(row) {
    if (!state.statuses.has(row[col.status])) return false;
    var item = row[col.item];
    if (state.agreement === "disagree" && !disagree.has(item)) return false;
    if (state.agreement === "agree" && disagree.has(item)) return false;
    if (state.search && row.haystack.indexOf(state.search) < 0) return false;
    return true;
  }

  function block(title, text) {
    // Folded, and filled only when opened: a 120 KB reasoning trace costs nothing until read.
    var details = el("details", "fold");
    var pre = el("pre");
    details.appendChild(el("summary", null, title));
    details.appendChild(pre);
    details.addEventListener("toggle", function () {
      if (details.open && !pre.firstChild) pre.textContent = text;
    });
    return details;
  }

  function votesLine(item) {
    var line = el("div", "votes" + (disagree.has(item) ? " disagree" : ""));
    line.appendChild(el("span", "muted", disagree.has(item) ? "Models disagree: " : "Models on this item: "));
    (data.votes[item] || []).forEach(function (vote) {
      var name = data.models[vote[0]];
      var mark = vote[2] === 0 ? "not judged" : vote[1] + "/" + vote[2];
      var outcome = vote[2] === 0 ? "" : vote[1] === vote[2] ? " right" : vote[1] === 0 ? " wrong" : " mixed";
      var chip = el("span", "chip" + outcome + (name === data.model ? " self" : ""), name + " " + mark);
      line.appendChild(chip);
    });
    return line;
  }

  function sampleNode(row) {
    var status = row[col.status];
    var li = el("li", "sample status-" + status);
    li.dataset.status = status;
    var meta = el("div", "meta");
    meta.appendChild(el("span", "badge status-" + status, status.replace("_", " ")));
    meta.appendChild(el("code", "item", row[col.item]));
    meta.appendChild(el("span", "muted", "sample " + row[col.sample]));
    if (row[col.subtask]) meta.appendChild(el("span", "muted", row[col.subtask]));
    meta.appendChild(el("span", "muted", (row[col.tokens] === null ? "?" : row[col.tokens]) + " tokens, " +
      (row[col.finish] || "?")));
    li.appendChild(meta);
    var question = data.questions[row[col.item]];
    if (question === null || question === undefined) question = data.prompts[row[col.item]];
    if (question !== null && question !== undefined) li.appendChild(el("div", "question", question));
    var answers = el("div", "answers");
    answers.appendChild(el("span", "muted", "extracted "));
    answers.appendChild(el("code", "extracted", row[col.extracted] === null ? "(none)" : row[col.extracted]));
    answers.appendChild(el("span", "muted", " gold "));
    answers.appendChild(el("code", "gold", row[col.gold]));
    li.appendChild(answers);
    if (row[col.reason]) li.appendChild(el("div", "reason", row[col.reason]));
    if (row[col.error]) li.appendChild(el("div", "reason error", row[col.error]));
    li.appendChild(votesLine(row[col.item]));
    var prompt = data.prompts[row[col.item]];
    li.appendChild(block("Full prompt", prompt === null || prompt === undefined ? "(none)" : prompt));
    var reasoning = row[col.reasoning];
    if (reasoning !== null) li.appendChild(block("Reasoning (" + reasoning.length + " characters)", reasoning));
    li.appendChild(el("div", "label", "Output"));
    li.appendChild(el("pre", "output", row[col.answer]));
    return li;
  }

  function render() {
    var list = document.getElementById("samples");
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * PAGE_SIZE;
    var slice = filtered.slice(start, start + PAGE_SIZE);
    var fragment = document.createDocumentFragment();
    slice.forEach(function (row) { fragment.appendChild(sampleNode(row)); });
    list.replaceChildren(fragment);
    list.start = start + 1;
    document.body.dataset.shown = String(slice.length);
    showCount();
  }

  function showCount() {
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
    var start = state.page * PAGE_SIZE;
    var shown = Math.min(PAGE_SIZE, Math.max(0, filtered.length - start));
    var loading = rows.length < data.n_rows ? "; " + rows.length + " of " + data.n_rows + " loaded so far" : "";
    document.getElementById("count").textContent = (filtered.length === 0
      ? "No sample matches the filters (" + data.n_rows + " in all"
      : "Samples " + (start + 1) + "-" + (start + shown) + " of " + filtered.length +
        " (" + data.n_rows + " in all, page " + (state.page + 1) + " of " + pages) + loading + ")";
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages - 1;
    document.body.dataset.matching = String(filtered.length);
  }

  function update(resetPage) {
    filtered = rows.filter(matches);
    if (resetPage) state.page = 0;
    render();
  }

  statusFilters();
  addRows(firstChunk);
  document.getElementById("agreement").addEventListener("change", function (event) {
    state.agreement = event.target.value;
    update(true);
  });
  document.getElementById("search").addEventListener("input", function (event) {
    state.search = event.target.value.trim().toLowerCase();
    update(true);
  });
  document.getElementById("prev").addEventListener("click", function () { state.page -= 1; render(); });
  document.getElementById("next").addEventListener("click", function () { state.page += 1; render(); });
  document.getElementById("filters").addEventListener("submit", function (event) { event.preventDefault(); });
  update(true);
  window.__viewerReadyMs = performance.now();
  document.body.dataset.ready = "1";
  // The data files only after the page's load event: a script added before it would hold the event, and
  // the first paint with it, until every file had loaded.
  if (document.readyState === "complete") setTimeout(loadNextChunk, 0);
  else window.addEventListener("load", function () { setTimeout(loadNextChunk, 0); });
})();
