// qolaba-mock dashboard: plain JavaScript, no dependency, no inline script (the page's CSP forbids it).
// Every change goes to the admin API itself, as JSON from this origin, and its answer is shown as sent.
"use strict";

(function () {
  const body = document.body;
  const ui = body.dataset.ui;
  const namespace = body.dataset.namespace;
  const answer = document.getElementById("answer");

  function show(text) {
    answer.textContent = text;  // textContent: an answer is shown as text, never as markup
    answer.hidden = false;
  }

  // A change reloads the page to show its effect; the admin API's answer survives the reload.
  const kept = sessionStorage.getItem("qolaba-mock-answer");
  if (kept !== null) {
    sessionStorage.removeItem("qolaba-mock-answer");
    show(kept);
  }

  async function admin(method, path, payload) {
    const response = await fetch("/__admin" + path, {
      method: method,
      headers: { "Content-Type": "application/json", "X-Mock-Namespace": namespace },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: "same-origin",
    });
    const text = await response.text();
    const said = `${method} /__admin${path} → HTTP ${response.status}\n${text}`;
    if (response.ok) {
      sessionStorage.setItem("qolaba-mock-answer", said);
      location.reload();
    } else {
      show(said);
    }
  }

  // Controls: each form names its action; the admin API validates what it is given.
  for (const form of document.querySelectorAll("form.admin")) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const data = new FormData(form);
      const action = form.dataset.action;
      if (action === "advance") {
        const seconds = Number(data.get("seconds"));
        admin("POST", "/clock/advance", { seconds: Number.isNaN(seconds) ? data.get("seconds") : seconds });
      } else if (action === "add-fault") {
        const faults = JSON.parse(form.dataset.faults);
        admin("PUT", "/faults", { faults: faults.concat([String(data.get("fault"))]) });
      } else if (action === "latency") {
        admin("PUT", "/latency", { latency: String(data.get("latency")) });
      } else if (action === "fidelity") {
        admin("PATCH", "/config", { fidelity: String(data.get("fidelity")) });
      }
    });
  }
  for (const button of document.querySelectorAll("button.remove-fault")) {
    button.addEventListener("click", function () {
      const faults = JSON.parse(document.querySelector("form[data-action=add-fault]").dataset.faults);
      faults.splice(Number(button.dataset.index), 1);
      admin("PUT", "/faults", { faults: faults });
    });
  }
  for (const button of document.querySelectorAll("button.advance-until")) {
    button.addEventListener("click", function () {
      admin("POST", "/clock/advance", { seconds: Math.max(0, Number(button.dataset.seconds)) });
    });
  }

  // One exchange: copy as curl or httpx, send again.
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async function () {
      const text = document.getElementById(button.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
        show("Copied.");
      } catch (error) {
        show("The browser refused the clipboard; select the text below instead.");
      }
    });
  }
  const resend = document.getElementById("resend");
  if (resend) {
    resend.addEventListener("click", async function () {
      const response = await fetch(`${ui}/exchange/${resend.dataset.seq}/resend?namespace=${encodeURIComponent(namespace)}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
        credentials: "same-origin",
      });
      const said = await response.json();
      if (response.ok && said.seq) {
        location.href = `${ui}/exchange/${said.seq}?namespace=${encodeURIComponent(namespace)}`;
      } else {
        show(JSON.stringify(said));
      }
    });
  }

  // The live journal: rows rendered (and escaped) by the server arrive over Server-Sent Events.
  const pause = document.getElementById("pause");
  const rows = document.getElementById("rows");
  if (pause && rows) {
    const maxRows = Number(document.getElementById("journal").dataset.maxRows);
    const state = document.getElementById("live-state");
    let newest = Number(pause.dataset.newest);
    let source = null;

    function open() {
      const query = pause.dataset.query ? pause.dataset.query + "&" : "";
      source = new EventSource(`${ui}/stream?${query}after=${newest}`);
      source.addEventListener("open", function () { state.textContent = "live"; });
      source.addEventListener("row", function (event) {
        newest = Math.max(newest, Number(event.lastEventId));
        rows.insertAdjacentHTML("afterbegin", event.data);
        const empty = document.getElementById("empty");
        if (empty) { empty.remove(); }
        while (rows.rows.length > maxRows) { rows.deleteRow(-1); }
      });
      source.addEventListener("skipped", function (event) {
        const note = document.getElementById("skipped");
        note.textContent = `${event.data} rows arrived too fast to show; reload to page them`;
        note.hidden = false;
      });
      source.addEventListener("closed", function () { state.textContent = "the server stopped"; source.close(); });
      source.onerror = function () { state.textContent = "reconnecting…"; };
    }

    pause.addEventListener("click", function () {
      if (source) {
        source.close();
        source = null;
        pause.textContent = "Resume";
        state.textContent = "paused";
      } else {
        pause.textContent = "Pause";
        open();
      }
    });
    open();
  }
})();
