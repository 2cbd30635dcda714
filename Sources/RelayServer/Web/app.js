// The agent page: binds to this agent's engagement (Zoom Apps SDK inside Zoom, a picker outside), shows the
// web sink's live feed (GET /api/events) and drives RTMS through POST /api/zoom/rtms/control.
// Plain JavaScript, no build step. Every failure is shown in words; nothing here needs the Zoom SDK to load.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const ui = {
    live: $("live"), message: $("message"), auth: $("auth"), authText: $("auth-text"),
    picker: $("picker"), select: $("engagement-select"), bound: $("bound"), boundId: $("bound-id"),
    boundState: $("bound-state"), streamState: $("stream-state"), channels: $("channels"), log: $("log"),
    buttons: Array.from(document.querySelectorAll(".controls button")), connect: $("connect"),
  };
  // What a failed Connect to Zoom means, by the relay's fixed reason code (nothing from the URL is shown).
  const CONNECT_FAILURES = {
    declined: "Zoom authorization was declined",
    expired: "the login expired or was already used; start again",
    no_code: "Zoom sent no authorization code; start again",
    not_admin: "only an owner or admin of this Zoom account can connect it",
    zoom_failed: "Zoom could not be reached or refused the login; ask the operator to check the relay's log",
  };
  const MAX_LOG_LINES = 500;
  const POLL_MS = 3000;
  const STATE_TEXT = {
    none: "no stream", starting: "starting", streaming: "streaming", interrupted: "reconnecting",
    paused: "paused", stopped: "stopped", failed: "failed",
  };

  const meta = (name) => { const m = document.querySelector(`meta[name="${name}"]`); return m ? m.content : null; };
  const state = {
    token: meta("rtms-relay-session"),
    insideZoom: meta("rtms-relay-session") !== null || meta("rtms-relay-auth-error") !== null || /ZoomApps|ZoomWebKit/i.test(navigator.userAgent),
    sdkEngagement: null,        // engagement id from the Zoom SDK, when inside Zoom
    sdkState: null,             // "active", "wrap-up", "end" … from the SDK
    engagement: null,           // the engagement this page is bound to
    engagementActive: false,
    stream: "none",             // state of the engagement's latest stream
    authenticated: false,
    zoomConfigured: true,
    busy: false,
    source: null,
    channels: new Map(),        // channel id -> {row, name, chunks, meter}
  };

  // ---- messages and the log ----

  function showMessage(kind, text) {
    if (!text) { ui.message.hidden = true; ui.message.textContent = ""; return; }
    ui.message.dataset.kind = kind;
    ui.message.textContent = (kind === "error" ? "Error: " : "") + text;
    ui.message.hidden = false;
  }

  function addLog(level, text, time, channel) {
    const empty = ui.log.querySelector(".empty");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.dataset.level = ["info", "success", "warning", "error"].includes(level) ? level : "info";
    const when = time ? new Date(time) : new Date();
    const stamp = document.createElement("time");
    stamp.dateTime = when.toISOString();
    stamp.textContent = when.toLocaleTimeString();
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text + (channel ? ` (${channelName(channel)})` : "");
    item.append(stamp, body);
    ui.log.prepend(item);
    while (ui.log.children.length > MAX_LOG_LINES) ui.log.lastElementChild.remove();
  }

  function clearLog() {
    ui.log.replaceChildren();
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "No status messages yet";
    ui.log.append(empty);
  }

  // ---- channels ----

  function channelName(id) {
    const channel = state.channels.get(id);
    return channel && channel.userName ? channel.userName : `channel ${id}`;
  }

  function resetChannels() {
    state.channels.clear();
    ui.channels.replaceChildren();
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "No audio yet";
    ui.channels.append(empty);
  }

  function updateChannel(data) {
    let channel = state.channels.get(data.channel);
    if (!channel) {
      const empty = ui.channels.querySelector(".empty");
      if (empty) empty.remove();
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.className = "name";
      const chunks = document.createElement("span");
      chunks.className = "chunks";
      chunks.dataset.channel = data.channel;
      const meter = document.createElement("meter");
      meter.min = 0; meter.max = 1; meter.low = 0.6; meter.high = 0.9; meter.optimum = 0.3;
      row.append(name, chunks, meter);
      ui.channels.append(row);
      channel = { row, name, chunks, meter, userName: null };
      state.channels.set(data.channel, channel);
    }
    channel.userName = data.user_name || channel.userName;
    const label = channel.userName ? `${channel.userName} (${data.channel})` : `Channel ${data.channel}`;
    channel.name.textContent = label;
    channel.chunks.textContent = `${data.chunks} chunks`;
    // RMS to a 60 dB scale, which is how level meters read.
    const db = data.rms > 0 ? 20 * Math.log10(data.rms) : -60;
    channel.meter.value = Math.max(0, Math.min(1, (db + 60) / 60));
    channel.meter.setAttribute("aria-label", `${label} level`);
    channel.meter.title = `${Math.round(db)} dBFS`;
  }

  // ---- stream state and buttons ----

  function setStream(next) {
    state.stream = next || "none";
    ui.streamState.dataset.state = state.stream;
    ui.streamState.textContent = STATE_TEXT[state.stream] || state.stream;
    render();
  }

  function render() {
    const usable = state.engagement && state.engagementActive && state.authenticated && !state.busy;
    const s = state.stream;
    const allowed = {
      start: ["none", "stopped", "failed"].includes(s),
      stop: ["starting", "streaming", "interrupted", "paused"].includes(s),
      pause: s === "streaming",
      resume: s === "paused",
    };
    for (const button of ui.buttons) button.disabled = !(usable && allowed[button.dataset.action]);
    if (state.insideZoom && state.sdkEngagement) {
      ui.bound.hidden = false;
      ui.picker.hidden = true;
      ui.boundId.textContent = state.sdkEngagement;
      ui.boundState.textContent = state.sdkState ? `(${state.sdkState})` : "";
    } else {
      ui.bound.hidden = true;
      ui.picker.hidden = false;
    }
    ui.auth.hidden = state.authenticated || !state.zoomConfigured;
  }

  // ---- API ----

  async function api(path, options) {
    const headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    let response;
    try {
      response = await fetch(path, Object.assign({}, options, { headers, credentials: "same-origin" }));
    } catch (error) {
      throw new Error(`cannot reach the relay (${error.message})`);
    }
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (!response.ok) {
      const reason = body && body.error ? body.error : (text || response.statusText || "no details");
      const error = new Error(`${reason} (HTTP ${response.status})`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  async function refreshAuth() {
    try {
      const status = await api("/api/auth/status");
      state.authenticated = !!status.authenticated;
      state.zoomConfigured = status.configured !== false;
      if (!state.zoomConfigured) {
        showMessage("error", status.problem || "Zoom app credentials are not configured on the relay");
      } else if (!state.authenticated && status.problem) {
        ui.authText.textContent = `Not connected to Zoom: ${status.problem}`;
      }
    } catch (error) {
      showMessage("error", `Could not read the Zoom connection status: ${error.message}`);
    }
    render();
  }

  async function refreshEngagements() {
    let list;
    try {
      list = (await api("/api/engagements")).engagements || [];
    } catch (error) {
      showMessage("error", `Could not list engagements: ${error.message}`);
      return;
    }
    const wanted = state.insideZoom && state.sdkEngagement ? state.sdkEngagement : null;
    if (!wanted) fillPicker(list);
    const id = wanted || ui.select.value || null;
    const current = list.find((e) => e.engagementId === id);
    if (id !== state.engagement) bind(id);
    state.engagementActive = current ? current.isActive : (wanted ? state.sdkState === "active" : false);
    if (state.insideZoom && state.sdkState && state.sdkState !== "active") state.engagementActive = false;
    // Streams come newest first.
    const latest = current && current.streams && current.streams.length ? current.streams[0] : null;
    setStream(latest ? latest.state : "none");
  }

  function fillPicker(list) {
    const active = list.filter((e) => e.isActive);
    const previous = ui.select.value;
    const options = active.map((e) => {
      const option = document.createElement("option");
      option.value = e.engagementId;
      const latest = e.streams && e.streams.length ? e.streams[0].state : "no stream";
      option.textContent = `${e.engagementId} (${STATE_TEXT[latest] || latest})`;
      return option;
    });
    if (!options.length) {
      const none = document.createElement("option");
      none.value = "";
      none.textContent = "No active engagement";
      options.push(none);
    }
    ui.select.replaceChildren(...options);
    ui.select.value = active.some((e) => e.engagementId === previous) ? previous : (active[0] ? active[0].engagementId : "");
  }

  // Connecting needs a caller (this page's session, or the operator): the relay answers with Zoom's consent URL.
  async function connectToZoom() {
    try {
      const started = await api("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      location.href = started.authorize_url;
    } catch (error) {
      showMessage("error", `Could not start Connect to Zoom: ${error.message}`);
    }
  }

  async function control(action) {
    if (!state.engagement) return;
    state.busy = true;
    render();
    showMessage(null);
    try {
      await api("/api/zoom/rtms/control", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ engagementId: state.engagement, action }),
      });
      showMessage("success", `${action[0].toUpperCase()}${action.slice(1)} requested`);
    } catch (error) {
      showMessage("error", `${action[0].toUpperCase()}${action.slice(1)} failed: ${error.message}`);
      if (error.status === 401) refreshAuth();
    } finally {
      state.busy = false;
      render();
      refreshEngagements();
    }
  }

  // ---- live feed ----

  function bind(engagement) {
    state.engagement = engagement;
    if (state.source) { state.source.close(); state.source = null; }
    clearLog();
    resetChannels();
    setStream("none");
    if (!engagement) { setLive("idle", "No engagement"); return; }
    const params = new URLSearchParams({ engagement });
    if (state.token) params.set("access_token", state.token);
    const source = new EventSource(`/api/events?${params}`);
    state.source = source;
    setLive("reconnecting", "Connecting");
    source.onopen = () => setLive("live", "Live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        setLive("error", "Disconnected");
        // EventSource hides the HTTP error; ask the API for it in words, then try again.
        probeEvents(params);
        setTimeout(() => { if (state.source === source) bind(engagement); }, 5000);
      } else {
        setLive("reconnecting", "Reconnecting");
      }
    };
    source.addEventListener("status", (event) => {
      const data = parse(event.data);
      if (data) addLog(data.level, data.text, data.time, data.channel);
    });
    source.addEventListener("stream", (event) => {
      const data = parse(event.data);
      if (data) onStreamEvent(data);
    });
    source.addEventListener("level", (event) => {
      const data = parse(event.data);
      if (data && data.channels) data.channels.forEach(updateChannel);
    });
  }

  // Asks /api/events once with fetch, which (unlike EventSource) shows the status and the error body.
  async function probeEvents(params) {
    const controller = new AbortController();
    const headers = { Accept: "text/event-stream" };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    try {
      const response = await fetch(`/api/events?${params}`, { headers, signal: controller.signal });
      if (!response.ok) {
        const body = parse(await response.text());
        showMessage("error", `Live updates refused: ${(body && body.error) || response.statusText} (HTTP ${response.status})`);
      }
    } catch (error) {
      if (error.name !== "AbortError") showMessage("error", `Live updates unavailable: cannot reach the relay (${error.message})`);
    } finally {
      controller.abort();
    }
  }

  function parse(text) {
    try { return JSON.parse(text); } catch (_) { return null; }
  }

  function onStreamEvent(event) {
    switch (event.type) {
      case "stream.started": resetChannels(); setStream("starting"); break;
      case "stream.connected": case "stream.resumed": case "stream.unpaused": setStream("streaming"); break;
      case "stream.paused": setStream("paused"); break;
      case "stream.interrupted": setStream("interrupted"); break;
      case "stream.stopped": setStream("stopped"); break;
      case "stream.failed": setStream("failed"); break;
      case "engagement.ended": state.engagementActive = false; render(); break;
      case "engagement.started": state.engagementActive = true; render(); break;
      default: break;
    }
  }

  function setLive(kind, text) {
    ui.live.dataset.state = kind;
    ui.live.textContent = text;
  }

  // ---- Zoom Apps SDK (optional) ----

  function loadZoomSdk() {
    return new Promise((resolve, reject) => {
      if (window.zoomSdk) { resolve(window.zoomSdk); return; }
      const script = document.createElement("script");
      script.src = "https://appssdk.zoom.us/sdk.js";
      script.async = true;
      script.onload = () => (window.zoomSdk ? resolve(window.zoomSdk) : reject(new Error("the SDK did not start")));
      script.onerror = () => reject(new Error("the Zoom Apps SDK could not be loaded"));
      document.head.append(script);
      setTimeout(() => reject(new Error("the Zoom Apps SDK took too long to load")), 8000);
    });
  }

  async function startZoom() {
    let sdk;
    try {
      sdk = await loadZoomSdk();
      await sdk.config({
        version: "0.16.0",
        popoutSize: { width: 480, height: 360 },
        capabilities: ["getEngagementContext", "getEngagementStatus", "onEngagementStatusChange", "onEngagementContextChange"],
      });
      const context = await sdk.getEngagementContext();
      state.sdkEngagement = (context && (context.engagementContext || context).engagementId) || null;
      const status = await sdk.getEngagementStatus();
      state.sdkState = (status && (status.engagementStatus || status).state) || null;
      sdk.onEngagementStatusChange((event) => {
        state.sdkState = (event && (event.engagementStatus || event).state) || null;
        addLog("info", `Engagement ${state.sdkState || "changed"}`);
        refreshEngagements();
      });
      if (sdk.onEngagementContextChange) {
        sdk.onEngagementContextChange((event) => {
          const id = event && (event.engagementContext || event).engagementId;
          if (id) { state.sdkEngagement = id; refreshEngagements(); }
        });
      }
    } catch (error) {
      state.sdkEngagement = null;
      showMessage("info", `Zoom engagement unavailable (${error.message || error}); pick an engagement instead.`);
    }
    render();
    refreshEngagements();
  }

  // ---- start ----

  function start() {
    const query = new URLSearchParams(location.search);
    if (query.get("auth") === "success") showMessage("success", "Connected to Zoom");
    if (query.get("auth") === "error") showMessage("error", `Connecting to Zoom failed: ${CONNECT_FAILURES[query.get("reason")] || "please try again"}`);
    if (query.has("auth")) history.replaceState(null, "", location.pathname);
    const authError = meta("rtms-relay-auth-error");
    if (authError) showMessage("error", `This Zoom session could not be verified: ${authError}`);

    for (const button of ui.buttons) button.addEventListener("click", () => control(button.dataset.action));
    ui.connect.addEventListener("click", connectToZoom);
    ui.select.addEventListener("change", () => { bind(ui.select.value || null); refreshEngagements(); });

    refreshAuth();
    if (state.insideZoom) startZoom(); else refreshEngagements();
    setInterval(refreshEngagements, POLL_MS);
    setInterval(refreshAuth, 30000);
  }

  start();
})();
