// The agent page: binds to this agent's call (Zoom Apps SDK inside Zoom, a picker outside), shows the web sink's
// live feed (GET /api/events) as a call header, per-party meters, a live transcript and an activity log in plain
// words, and drives RTMS through POST /api/zoom/rtms/control.
// Plain JavaScript, no build step. Every failure is shown in words; nothing here needs the Zoom SDK to load.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const ui = {
    live: $("live"), message: $("message"), auth: $("auth"), authText: $("auth-text"),
    picker: $("picker"), select: $("engagement-select"), bound: $("bound"), boundId: $("bound-id"),
    boundState: $("bound-state"), streamState: $("stream-state"), channels: $("channels"), log: $("log"),
    buttons: Array.from(document.querySelectorAll(".controls button")), connect: $("connect"),
    call: $("call"), caller: $("caller"), callMeta: $("call-meta"), rec: $("rec"), started: $("started"),
    timer: $("timer"), chunkTotal: $("chunk-total"), transcript: $("transcript"), latest: $("latest"),
    stopDialog: $("stop-dialog"), recordings: $("recordings-link"),
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
  const MAX_TRANSCRIPT_LINES = 2000;
  const POLL_MS = 3000;
  // A party counts as speaking while its level is above this (about -40 dBFS), held this long.
  const SPEAKING_RMS = 0.01;
  const SPEAKING_HOLD_MS = 600;
  // Meters with no level update for this long drop to zero (the web sink sends levels every 250 ms by default).
  const METER_STALE_MS = 1500;
  const STATE_TEXT = {
    none: "no stream", starting: "starting", streaming: "streaming", interrupted: "reconnecting",
    paused: "paused", stopped: "stopped", failed: "failed",
  };
  // Zoom's contact-center and meeting event names (docs/zoom-rtms.md, "ZCC voice events"), in plain words.
  const PARTICIPANT_EVENTS = {
    CONSUMER_ANSWERED: "Customer answered", CONSUMER_END: "Customer hung up",
    USER_ANSWERED: "Agent answered", USER_END: "Agent left the call",
    USER_HOLD: "Call put on hold", USER_UNHOLD: "Call taken off hold",
    MONITOR_STARTED: "A supervisor started listening in", MONITOR_TRANSITIONED: "The supervisor changed how they take part",
    MONITOR_ENDED: "The supervisor stopped listening in", TAKEOVER_STARTED: "A supervisor took over the call",
    TRANSFER_INITIATED: "Transfer started", TRANSFER_CANCELED: "Transfer canceled", TRANSFER_ACCEPTED: "Transfer accepted",
    TRANSFER_COMPLETED: "Transfer completed", TRANSFER_REJECTED: "Transfer declined", TRANSFER_TIMEOUT: "Transfer not answered in time",
    CONFERENCE_CANCELED: "Conference canceled", CONFERENCE_PARTICIPANT_CANCELED: "Conference invitation withdrawn",
    CONFERENCE_PARTICIPANT_INVITED: "Someone was invited to join", CONFERENCE_PARTICIPANT_REJECTED: "A conference invitation was declined",
    CONFERENCE_PARTICIPANT_TIMEOUT: "A conference invitation was not answered", CONFERENCE_PARTICIPANT_LEFT: "A conference participant left",
    PARTICIPANT_JOIN: "A participant joined", PARTICIPANT_LEAVE: "A participant left",
    SHARING_START: "Screen sharing started", SHARING_STOP: "Screen sharing stopped",
  };
  // Zoom's stop reasons (docs/zoom-rtms.md, "Stop reasons"), as the end of "Recording stopped: …".
  const STOP_REASONS = {
    1: "the host stopped it", 2: "a user stopped it", 3: "the app's user left", 4: "the app's user was removed",
    5: "the host turned the app off", 6: "the call ended", 7: "a participant canceled it", 8: "access was revoked",
    9: "all apps were turned off", 10: "Zoom had an internal error", 11: "the connection timed out",
    12: "Zoom's media server lost its connection", 13: "the control connection was lost", 14: "the media connection was lost",
    17: "Zoom shut the stream down", 18: "Zoom refused the relay's credentials", 19: "reconnecting took too long",
    20: "the relay closed the stream", 21: "the customer hung up", 22: "the agent hung up", 23: "an admin turned the app off",
    24: "Zoom stopped hearing from the relay", 25: "it was stopped from this page or the API", 26: "this queue does not allow streaming",
  };
  const ACTION_TEXT = { start: "Start", stop: "Stop", pause: "Pause", resume: "Resume" };

  const meta = (name) => { const m = document.querySelector(`meta[name="${name}"]`); return m ? m.content : null; };
  const state = {
    token: meta("rtms-relay-session"),
    insideZoom: meta("rtms-relay-session") !== null || meta("rtms-relay-auth-error") !== null || /ZoomApps|ZoomWebKit/i.test(navigator.userAgent),
    sdkEngagement: null,        // engagement id from the Zoom SDK, when inside Zoom
    sdkState: null,             // "active", "wrap-up", "end" … from the SDK
    engagement: null,           // the engagement this page is bound to
    engagementActive: false,
    callEnded: false,           // the bound engagement has ended: the page says so and stops reconnecting
    offline: false,             // the relay itself cannot be reached
    stream: "none",             // state of the engagement's latest stream
    pausedSince: null,          // when the stream paused (ms), for "Paused since …"
    startedAt: null,            // the call's start and end (ms), for the timer
    endedAt: null,
    call: null,                 // the call's details from /api/engagements: direction, agents, caller, queue, roles
    authenticated: false,
    zoomConfigured: true,
    busy: false,
    source: null,
    sourceOpen: false,
    everOpen: false,            // the feed was open once: a new attempt is a reconnect
    channels: new Map(),        // channel id -> {row, name, chunks, speaking, meter, userName, chunkCount, lastLevel, speakingUntil}
    followTranscript: true,     // auto-scroll, off while the agent has scrolled up
  };

  // ---- messages and the activity log ----

  function showMessage(kind, text) {
    if (!text) { ui.message.hidden = true; ui.message.textContent = ""; return; }
    ui.message.dataset.kind = kind;
    ui.message.textContent = (kind === "error" ? "Error: " : "") + text;
    ui.message.hidden = false;
  }

  function addLog(level, text, time) {
    const empty = ui.log.querySelector(".empty");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.dataset.level = ["info", "success", "warning", "error"].includes(level) ? level : "info";
    item.append(clockElement(time), Object.assign(document.createElement("span"), { className: "text", textContent: text }));
    ui.log.prepend(item);
    while (ui.log.children.length > MAX_LOG_LINES) ui.log.lastElementChild.remove();
  }

  function clockElement(time) {
    const when = time ? new Date(time) : new Date();
    const stamp = document.createElement("time");
    stamp.dateTime = when.toISOString();
    stamp.textContent = when.toLocaleTimeString();
    return stamp;
  }

  function emptyList(list, text) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = text;
    list.replaceChildren(empty);
  }

  // ---- parties ----

  // "agent", "customer" or null: the channel's participant_mode, else an agent's name from the webhook, else the
  // caller's name. The same order as CallRole.of (Sources/RelayCore/Sinks/CallLibrary.swift), which the recordings API uses.
  function roleOf(channel, userName) {
    const call = state.call;
    if (!call) return null;
    if (call.roles && call.roles[channel]) return call.roles[channel];
    if (userName && (call.agents || []).some((a) => a.name === userName)) return "agent";
    if (userName && call.caller && call.caller.name === userName) return "customer";
    return null;
  }

  function partyLabel(channel, userName) {
    const role = roleOf(channel, userName);
    const title = role === "agent" ? "Agent" : role === "customer" ? "Customer" : null;
    if (title) return userName ? `${title} · ${userName}` : title;
    return userName || `Channel ${channel}`;
  }

  // "the customer's", "Alice's", "channel 2's": whose audio a gap is about.
  function possessive(channel, userName) {
    const role = roleOf(channel, userName);
    if (role) return `the ${role}'s`;
    return userName ? `${userName}'s` : `channel ${channel}'s`;
  }

  function resetChannels() {
    state.channels.clear();
    emptyList(ui.channels, "No audio yet");
    renderChunkTotal();
  }

  function channelRow(id) {
    let channel = state.channels.get(id);
    if (channel) return channel;
    const empty = ui.channels.querySelector(".empty");
    if (empty) empty.remove();
    const row = document.createElement("li");
    const name = Object.assign(document.createElement("span"), { className: "name" });
    const speaking = Object.assign(document.createElement("span"), { className: "speaking", textContent: "quiet" });
    const chunks = Object.assign(document.createElement("span"), { className: "chunks" });
    chunks.dataset.channel = id;
    const meter = document.createElement("meter");
    meter.min = 0; meter.max = 1; meter.low = 0.6; meter.high = 0.9; meter.optimum = 0.3; meter.value = 0;
    row.append(name, speaking, chunks, meter);
    ui.channels.append(row);
    channel = { row, name, speaking, chunks, meter, userName: null, chunkCount: 0, lastLevel: 0, speakingUntil: 0 };
    state.channels.set(id, channel);
    return channel;
  }

  function updateChannel(data) {
    const channel = channelRow(data.channel);
    channel.userName = data.user_name || channel.userName;
    channel.chunkCount = data.chunks;
    channel.lastLevel = Date.now();
    channel.chunks.textContent = `${data.chunks} chunks`;
    // RMS to a 60 dB scale, which is how level meters read.
    const db = data.rms > 0 ? 20 * Math.log10(data.rms) : -60;
    channel.meter.value = Math.max(0, Math.min(1, (db + 60) / 60));
    channel.meter.title = `${Math.round(db)} dBFS`;
    if (data.rms >= SPEAKING_RMS) channel.speakingUntil = Date.now() + SPEAKING_HOLD_MS;
    labelChannel(data.channel, channel);
    renderChannel(channel);
    renderChunkTotal();
  }

  function labelChannel(id, channel) {
    const label = partyLabel(id, channel.userName);
    channel.name.textContent = label;
    channel.meter.setAttribute("aria-label", `${label} level`);
  }

  // A meter is live only while the stream streams and levels keep coming; otherwise it reads zero, greyed.
  function renderChannel(channel) {
    const now = Date.now();
    const idle = state.stream !== "streaming" || now - channel.lastLevel > METER_STALE_MS;
    channel.row.dataset.idle = String(idle);
    if (idle) channel.meter.value = 0;
    const speaking = !idle && now < channel.speakingUntil;
    channel.speaking.dataset.speaking = String(speaking);
    channel.speaking.textContent = speaking ? "speaking" : "quiet";
  }

  function renderChunkTotal() {
    let total = 0;
    for (const channel of state.channels.values()) total += channel.chunkCount;
    ui.chunkTotal.textContent = `${total.toLocaleString()} audio chunks`;
    ui.chunkTotal.dataset.total = String(total);
  }

  // ---- transcript ----

  function clearTranscript() {
    emptyList(ui.transcript, "No transcript yet");
    state.followTranscript = true;
    ui.latest.hidden = true;
  }

  function addTranscript(event) {
    const empty = ui.transcript.querySelector(".empty");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.dataset.channel = event.channel;
    if (event.speaker) item.dataset.speaker = event.speaker;
    const who = Object.assign(document.createElement("span"), { className: "who" });
    const said = Object.assign(document.createElement("span"), { className: "said", textContent: event.text });
    item.append(who, said, clockElement(event.time));
    labelTranscriptLine(item);
    ui.transcript.append(item);
    while (ui.transcript.children.length > MAX_TRANSCRIPT_LINES) ui.transcript.firstElementChild.remove();
    if (state.followTranscript) ui.transcript.scrollTop = ui.transcript.scrollHeight; else ui.latest.hidden = false;
  }

  // "Agent" or "Customer" when the call's details say so, else the speaker's name; lines that came before the
  // details are labelled again when they arrive.
  function labelTranscriptLine(item) {
    const { channel, speaker } = item.dataset;
    const role = roleOf(channel, speaker);
    const who = item.querySelector(".who");
    item.dataset.role = role || "unknown";
    who.textContent = role === "agent" ? "Agent" : role === "customer" ? "Customer" : (speaker || `Channel ${channel}`);
    who.title = role && speaker ? speaker : "";
  }

  // Auto-scroll stops while the agent reads further up, and starts again at the bottom.
  function onTranscriptScroll() {
    const atBottom = ui.transcript.scrollTop + ui.transcript.clientHeight >= ui.transcript.scrollHeight - 24;
    state.followTranscript = atBottom;
    if (atBottom) ui.latest.hidden = true;
  }

  // ---- call header ----

  function renderCall() {
    ui.call.hidden = !state.engagement;
    const call = state.call || {};
    const caller = call.caller;
    ui.caller.textContent = caller && (caller.name || caller.phoneNumber)
      ? `Caller ${[caller.name, caller.phoneNumber].filter(Boolean).join(" · ")}` : "Caller not named yet";
    const agents = (call.agents || []).map((a) => a.name || a.userId).filter(Boolean);
    ui.callMeta.textContent = [
      call.direction && `${call.direction[0].toUpperCase()}${call.direction.slice(1)}`,
      call.queue && `queue ${call.queue}`,
      agents.length && `agent ${agents.join(", ")}`,
    ].filter(Boolean).join(" · ");
    ui.started.textContent = state.startedAt ? new Date(state.startedAt).toLocaleTimeString() : "–";
    if (state.startedAt) ui.started.dateTime = new Date(state.startedAt).toISOString();
    renderTimer();
    renderRec();
  }

  function renderTimer() {
    if (!state.startedAt) { ui.timer.textContent = "0:00"; return; }
    const end = state.callEnded && state.endedAt ? state.endedAt : Date.now();
    const seconds = Math.max(0, Math.floor((end - state.startedAt) / 1000));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    ui.timer.textContent = (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(s).padStart(2, "0")}`;
    ui.timer.dataset.seconds = String(seconds);
  }

  function renderRec() {
    const s = state.stream;
    let kind = "off", text = "Not recording";
    if (s === "streaming") { kind = "rec"; text = "REC"; }
    else if (s === "starting") { kind = "reconnecting"; text = "Starting recording…"; }
    else if (s === "interrupted") { kind = "reconnecting"; text = "REC · reconnecting to Zoom"; }
    else if (s === "paused") { kind = "paused"; text = state.pausedSince ? `Paused since ${new Date(state.pausedSince).toLocaleTimeString()}` : "Paused"; }
    else if (s === "stopped") { kind = "stopped"; text = "Recording stopped"; }
    else if (s === "failed") { kind = "stopped"; text = "Recording failed"; }
    ui.rec.dataset.state = kind;
    ui.rec.textContent = text;
  }

  // ---- stream state, connection and buttons ----

  function setStream(next, at) {
    const previous = state.stream;
    state.stream = next || "none";
    if (state.stream === "paused" && (previous !== "paused" || !state.pausedSince)) state.pausedSince = at || Date.now();
    if (state.stream !== "paused") state.pausedSince = null;
    ui.streamState.dataset.state = state.stream;
    ui.streamState.textContent = STATE_TEXT[state.stream] || state.stream;
    for (const channel of state.channels.values()) renderChannel(channel);
    render();
  }

  // The pill says what is true: no call bound, the call over, the relay out of reach, or the feed's state.
  function renderLive() {
    let kind, text;
    if (state.engagement && state.callEnded) { kind = "ended"; text = "Call ended"; }
    else if (state.offline) { kind = "error"; text = "Offline"; }
    else if (!state.engagement) { kind = "idle"; text = "No active call"; }
    else if (state.sourceOpen) { kind = "live"; text = "Live"; }
    else if (state.source && state.source.readyState === EventSource.CONNECTING) { kind = "reconnecting"; text = state.everOpen ? "Reconnecting" : "Connecting"; }
    else { kind = "error"; text = "Disconnected"; }
    ui.live.dataset.state = kind;
    ui.live.textContent = text;
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
    renderCall();
    renderLive();
  }

  // Once a second: the timer, and meters that stopped hearing levels.
  function everySecond() {
    renderTimer();
    for (const channel of state.channels.values()) renderChannel(channel);
  }

  // ---- API ----

  async function api(path, options) {
    const headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    let response;
    try {
      response = await fetch(path, Object.assign({}, options, { headers, credentials: "same-origin" }));
    } catch (error) {
      const failure = new Error(`cannot reach the relay (${error.message})`);
      failure.unreachable = true;
      throw failure;
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
      if (!error.unreachable) showMessage("error", `Could not read the Zoom connection status: ${error.message}`);
    }
    render();
  }

  async function refreshEngagements() {
    let list;
    try {
      list = (await api("/api/engagements")).engagements || [];
    } catch (error) {
      state.offline = !!error.unreachable;
      if (!error.unreachable) showMessage("error", `Could not list calls: ${error.message}`);
      render();
      return;
    }
    if (state.offline) { state.offline = false; showMessage(null); }
    const wanted = state.insideZoom && state.sdkEngagement ? state.sdkEngagement : null;
    if (!wanted) fillPicker(list);
    const id = wanted || ui.select.value || null;
    const current = list.find((e) => e.engagementId === id);
    if (id !== state.engagement) bind(id);
    state.engagementActive = current ? current.isActive : (wanted ? state.sdkState === "active" : false);
    if (state.insideZoom && state.sdkState && state.sdkState !== "active") state.engagementActive = false;
    if (current) {
      state.call = current.call || null;
      state.startedAt = Date.parse(current.startedAt) || state.startedAt;
      state.endedAt = current.endedAt ? Date.parse(current.endedAt) : null;
      if (!current.isActive) endCall(state.endedAt);
      for (const [channelID, channel] of state.channels) labelChannel(channelID, channel);
      ui.transcript.querySelectorAll('li[data-role="unknown"]').forEach(labelTranscriptLine);
    }
    // Streams come newest first.
    const latest = current && current.streams && current.streams.length ? current.streams[0] : null;
    const pausedAt = latest && latest.state === "paused" ? Date.parse(latest.updatedAt || latest.startedAt) : null;
    setStream(latest ? latest.state : "none", state.pausedSince || pausedAt);
  }

  // Active calls, and the one this page shows even after it ended (so its transcript stays readable).
  function fillPicker(list) {
    const previous = ui.select.value;
    const shown = list.filter((e) => e.isActive || e.engagementId === previous);
    const options = shown.map((e) => {
      const option = document.createElement("option");
      option.value = e.engagementId;
      const latest = e.streams && e.streams.length ? e.streams[0].state : "no stream";
      const caller = e.call && e.call.caller && (e.call.caller.name || e.call.caller.phoneNumber);
      option.textContent = `${caller ? `${caller} · ` : ""}${e.engagementId} (${e.isActive ? (STATE_TEXT[latest] || latest) : "ended"})`;
      return option;
    });
    if (!options.length) {
      const none = document.createElement("option");
      none.value = "";
      none.textContent = "No active call";
      options.push(none);
    }
    ui.select.replaceChildren(...options);
    // An ended call stays on screen until a new one starts.
    const kept = shown.find((e) => e.engagementId === previous);
    const active = shown.find((e) => e.isActive);
    ui.select.value = kept && (kept.isActive || !active) ? previous : (active ? active.engagementId : "");
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
      showMessage("success", `${ACTION_TEXT[action]} requested`);
    } catch (error) {
      showMessage("error", `${ACTION_TEXT[action]} failed: ${error.message}`);
      if (error.status === 401) refreshAuth();
    } finally {
      state.busy = false;
      render();
      refreshEngagements();
    }
  }

  // Stop ends the recording, so it asks first; the other actions are undone by their opposite.
  function askToStop() {
    if (typeof ui.stopDialog.showModal !== "function") {
      if (window.confirm("Stop recording this call?")) control("stop");
      return;
    }
    ui.stopDialog.returnValue = "";
    ui.stopDialog.showModal();
  }

  // ---- live feed ----

  function bind(engagement) {
    state.engagement = engagement;
    if (state.source) { state.source.close(); state.source = null; }
    state.sourceOpen = false;
    state.everOpen = false;
    state.callEnded = false;
    state.call = null;
    state.startedAt = null;
    state.endedAt = null;
    emptyList(ui.log, "Nothing has happened yet");
    clearTranscript();
    resetChannels();
    setStream("none");
    if (engagement) connectFeed(engagement);
    render();
  }

  function connectFeed(engagement) {
    const params = new URLSearchParams({ engagement });
    if (state.token) params.set("access_token", state.token);
    const source = new EventSource(`/api/events?${params}`);
    state.source = source;
    source.onopen = () => { state.sourceOpen = true; state.everOpen = true; renderLive(); };
    source.onerror = () => {
      state.sourceOpen = false;
      if (state.callEnded) {
        // Nothing more will come for an ended call: stop asking, and keep saying it ended.
        source.close();
      } else if (source.readyState === EventSource.CLOSED) {
        // EventSource hides the HTTP error; ask the API for it in words, then try again.
        probeEvents(params);
        setTimeout(() => { if (state.source === source && !state.callEnded) connectFeed(engagement); }, 5000);
      }
      renderLive();
    };
    source.addEventListener("stream", (event) => {
      const data = parse(event.data);
      if (data && state.source === source) onStreamEvent(data);
    });
    source.addEventListener("level", (event) => {
      const data = parse(event.data);
      if (data && data.channels && state.source === source) data.channels.forEach(updateChannel);
    });
    // `event: status` carries the original app's texts for other clients; this page writes its own from `stream`.
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
      if (error.name !== "AbortError") { state.offline = true; renderLive(); }
    } finally {
      controller.abort();
    }
  }

  function parse(text) {
    try { return JSON.parse(text); } catch (_) { return null; }
  }

  function endCall(at) {
    if (state.callEnded) return;
    state.callEnded = true;
    state.engagementActive = false;
    state.endedAt = at || Date.now();
    render();
  }

  function onStreamEvent(event) {
    const at = Date.parse(event.time) || Date.now();
    const line = describe(event);
    if (line) addLog(line[0], line[1], event.time);
    switch (event.type) {
      case "stream.started": resetChannels(); setStream("starting", at); break;
      case "stream.connected": case "stream.resumed": case "stream.unpaused": setStream("streaming", at); break;
      case "stream.paused": setStream("paused", at); break;
      case "stream.interrupted": setStream("interrupted", at); break;
      case "stream.stopped": setStream("stopped", at); break;
      case "stream.failed": setStream("failed", at); break;
      case "engagement.ended": endCall(at); break;
      case "engagement.started": state.engagementActive = true; state.startedAt = state.startedAt || at; render(); break;
      case "transcript": addTranscript(event); break;
      default: break;
    }
  }

  // One event in plain words, as [level, text]; null for what the page shows elsewhere.
  function describe(event) {
    switch (event.type) {
      case "engagement.started": return ["info", "Call started"];
      case "engagement.ended": return ["info", "Call ended"];
      case "stream.requested": {
        const by = event.by && event.by !== "anonymous" ? ` by ${event.by}` : "";
        return ["info", `${ACTION_TEXT[event.action] || event.action} requested${by}`];
      }
      case "stream.started": return ["info", "Connecting to Zoom to record"];
      case "stream.connected": {
        const audio = (event.media_params && event.media_params.audio) || {};
        const format = audio.codec ? ` (${audio.codec}, ${audio.sample_rate / 1000} kHz, ${audio.channels === 1 ? "mono" : `${audio.channels} channels`})` : "";
        return ["success", `Recording${format}`];
      }
      case "stream.interrupted": return ["warning", `Connection to Zoom lost; reconnecting (attempt ${event.attempt})`];
      case "stream.resumed": return ["success", "Reconnected to Zoom"];
      case "stream.paused": return ["info", "Recording paused"];
      case "stream.unpaused": return ["info", "Recording resumed"];
      case "stream.stopped": {
        const reason = event.reason || {};
        const why = STOP_REASONS[reason.code];
        const normal = [0, 1, 2, 6, 20, 21, 22, 25].includes(reason.code);
        return [normal ? "success" : "warning", `Recording stopped${why ? `: ${why}` : reason.name ? `: ${reason.name}` : ""}`];
      }
      case "stream.failed": return ["error", `Recording failed: ${event.message}${event.status_code != null ? ` (Zoom status ${event.status_code})` : ""}`];
      case "audio.gap": {
        const seconds = (Math.round(event.duration_ms / 100) / 10).toFixed(1);
        const why = event.cause === "reconnect" ? "after a reconnect" : "(Zoom's timestamps jumped)";
        return ["warning", `${seconds} s of ${possessive(event.channel, event.user_name)} audio missing ${why}`];
      }
      case "participant": {
        if (event.event_name === "ACTIVE_SPEAKER_CHANGE") return null;
        const text = PARTICIPANT_EVENTS[event.event_name] || `Zoom event ${event.event_name}`;
        const who = event.participant && event.participant.display_name;
        return ["info", who ? `${text} (${who})` : text];
      }
      default: return null;
    }
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
        addLog("info", `Call ${state.sdkState || "changed"}`);
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
    // The recordings page takes this page's session from the fragment, which is never sent to the server.
    if (state.token) ui.recordings.href = `/recordings#session=${encodeURIComponent(state.token)}`;

    for (const button of ui.buttons) {
      button.addEventListener("click", () => (button.dataset.action === "stop" ? askToStop() : control(button.dataset.action)));
    }
    ui.stopDialog.addEventListener("close", () => { if (ui.stopDialog.returnValue === "stop") control("stop"); });
    ui.connect.addEventListener("click", connectToZoom);
    ui.select.addEventListener("change", () => { bind(ui.select.value || null); refreshEngagements(); });
    ui.transcript.addEventListener("scroll", onTranscriptScroll);
    ui.latest.addEventListener("click", () => {
      state.followTranscript = true;
      ui.latest.hidden = true;
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
    });

    render();
    refreshAuth();
    if (state.insideZoom) startZoom(); else refreshEngagements();
    setInterval(refreshEngagements, POLL_MS);
    setInterval(refreshAuth, 30000);
    setInterval(everySecond, 1000);
  }

  start();
})();
