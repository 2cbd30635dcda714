// The recordings page: find a call (date range, agent, caller, engagement, words said), then play it (both parties
// in step, each one mutable, at any speed) with its timeline of markers and gaps and its transcript, which
// highlights the line being played and seeks when a line is clicked. Data: GET /api/recordings[...] (docs/recordings.md).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute("content") ?? null;
  // The session the relay put into this page (opened from Zoom as the Home URL), or the one the live page handed
  // over in the fragment (`#session=`: never sent to the server, removed from the address at once). Kept in memory
  // only, like the live page's: it dies with the tab.
  const handedOver = new URLSearchParams(location.hash.slice(1));
  const token = meta("rtms-relay-session") ?? handedOver.get("session");
  if (handedOver.has("session")) {
    handedOver.delete("session");
    history.replaceState(null, "", `${location.pathname}${location.search}${handedOver.size ? `#${handedOver}` : ""}`);
  }

  const state = { cursor: null, filters: null, call: null, segment: null, players: [], lines: [] };

  function showMessage(kind, text) {
    const box = $("message");
    box.hidden = !text;
    box.dataset.kind = kind;
    box.textContent = text ?? "";
  }

  async function api(path) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, { headers, credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
    return body;
  }

  // The URL of a recording's audio, with the session for the <audio> element, which cannot send headers.
  const audioURL = (url) => (token ? `${url}&access_token=${encodeURIComponent(token)}` : url);

  const clock = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  };
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const party = (p) => (p ? [p.name, p.phone_number].filter(Boolean).join(" · ") || p.user_id || "" : "");
  const agents = (call) => call.agents.map((a) => a.name || a.user_id).join(", ");

  // MARK: search

  function filtersFromForm() {
    const data = new FormData($("search"));
    const filters = new URLSearchParams();
    for (const [key, value] of data) if (String(value).trim()) filters.set(key, String(value).trim());
    return filters;
  }

  async function search(append) {
    const params = new URLSearchParams(state.filters);
    params.set("limit", "25");
    if (append && state.cursor) params.set("cursor", state.cursor);
    const body = $("results").tBodies[0];
    try {
      const page = await api(`/api/recordings?${params}`);
      if (!append) body.replaceChildren();
      for (const call of page.calls) body.append(resultRow(call));
      if (!body.rows.length) body.append(emptyRow("No calls match."));
      state.cursor = page.next_cursor ?? null;
      $("more").hidden = !state.cursor;
      $("result-count").textContent = `(${body.querySelectorAll("tr[data-engagement]").length}${state.cursor ? "+" : ""})`;
      showMessage("info", null);
    } catch (error) {
      body.replaceChildren(emptyRow("—"));
      showMessage("error", `Cannot search the recordings: ${error.message}`);
    }
  }

  function emptyRow(text) {
    const row = document.createElement("tr");
    row.className = "empty";
    const cell = row.insertCell();
    cell.colSpan = 7;
    cell.textContent = text;
    return row;
  }

  function resultRow(call) {
    const row = document.createElement("tr");
    row.dataset.engagement = call.engagement_id;
    row.tabIndex = 0;
    const cells = [
      when(call.started_at),
      call.duration_ms != null ? clock(call.duration_ms / 1000) : call.ended_at ? "" : "live",
      agents(call), party(call.caller), call.queue ?? "", String(call.stream_count), call.matched ?? "",
    ];
    cells.forEach((text, index) => {
      const cell = row.insertCell();
      cell.textContent = text;
      if (index === 6) cell.className = "match";
    });
    row.title = call.engagement_id;
    const open = () => openCall(call.engagement_id);
    row.addEventListener("click", open);
    row.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
    return row;
  }

  // MARK: one call

  async function openCall(id) {
    try {
      state.call = await api(`/api/recordings/${encodeURIComponent(id)}`);
    } catch (error) {
      showMessage("error", `Cannot open the call: ${error.message}`);
      return;
    }
    history.replaceState(null, "", `#call=${encodeURIComponent(id)}`);
    for (const row of $("results").querySelectorAll("tr[data-engagement]")) row.setAttribute("aria-selected", String(row.dataset.engagement === id));
    const call = state.call;
    $("call").hidden = false;
    $("call-title").textContent = `Call ${call.engagement_id}`;
    $("call-summary").textContent = [
      when(call.started_at), call.duration_ms != null ? `${clock(call.duration_ms / 1000)} long` : "not ended",
      call.direction, call.queue && `queue ${call.queue}`, call.agents.length && `agent ${agents(call)}`, call.caller && `caller ${party(call.caller)}`,
    ].filter(Boolean).join(" · ");
    const select = $("segment");
    select.replaceChildren(...call.segments.map((segment, index) => new Option(
      `${index + 1}: ${new Date(segment.started_ms).toLocaleTimeString()} (${segment.state}${segment.stop_reason ? `, ${segment.stop_reason}` : ""})`, segment.stream_id)));
    $("segment-choice").hidden = call.segments.length < 2;
    renderTranscript();
    const first = call.segments.find((segment) => segment.channels.some((c) => c.audio)) ?? call.segments[0];
    if (first) await loadSegment(first.stream_id);
    else showMessage("info", "This call has no recorded stream.");
    $("call").scrollIntoView({ block: "start" });
  }

  const segmentOf = (streamID) => state.call?.segments.find((s) => s.stream_id === streamID) ?? null;
  // Seconds into a segment's files of a Zoom time (transcripts) or relay time (markers), in milliseconds.
  const offset = (segment, millis) => Math.max(0, (millis - (segment.origin_timestamp ?? segment.started_ms)) / 1000);
  const duration = (segment) => Math.max(0, ...segment.channels.map((c) => (c.audio?.duration_ms ?? 0) / 1000), segment.mixed ? segment.mixed.duration_ms / 1000 : 0);

  function loadSegment(streamID) {
    const segment = segmentOf(streamID);
    state.segment = segment;
    $("segment").value = streamID;
    for (const player of state.players) { player.audio.pause(); player.audio.removeAttribute("src"); player.audio.load(); }
    const box = $("audio");
    box.replaceChildren();
    state.players = segment.channels.filter((c) => c.audio).map((channel) => {
      const audio = new Audio();
      audio.preload = "auto";
      audio.src = audioURL(channel.audio.url);
      audio.dataset.channel = channel.channel;
      box.append(audio);
      return { channel, audio };
    });
    const label = (c) => (c.role ? `${title(c.role)}${c.user_name ? ` (${c.user_name})` : ""}` : c.user_name || `Channel ${c.channel}`);
    $("mutes").replaceChildren(...state.players.map((player) => {
      const wrap = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.addEventListener("change", () => { player.audio.muted = !box.checked; });
      wrap.append(box, ` ${label(player.channel)}`);
      return wrap;
    }));
    const links = segment.channels.filter((c) => c.audio).map((c) => link(`Download ${label(c)}`, audioURL(c.audio.download)));
    if (segment.mixed) links.unshift(link("Download stereo mix", audioURL(segment.mixed.download)));
    $("downloads").replaceChildren(...links);
    $("play").disabled = !state.players.length;
    $("play").textContent = "Play";
    if (!state.players.length) showMessage("info", "No audio files for this segment (is a wav sink configured?).");
    const master = state.players[0]?.audio;
    if (master) {
      master.addEventListener("timeupdate", onTime);
      master.addEventListener("ended", () => { $("play").textContent = "Play"; });
    }
    for (const player of state.players) player.audio.playbackRate = Number($("speed").value);
    renderTimeline();
    onTime();
    return Promise.all(state.players.map((p) => (p.audio.readyState >= 1 ? null : new Promise((resolve) => {
      p.audio.addEventListener("loadedmetadata", resolve, { once: true });
      p.audio.addEventListener("error", resolve, { once: true });
    }))));
  }

  // A party as the API names it: `role` is "agent", "customer", or absent when nothing says who the party is.
  const title = (role) => (role === "agent" ? "Agent" : "Customer");

  // "the agent's", "Alice's", "channel 2's": whose audio a gap is about.
  function possessive(role, userName, channel) {
    if (role) return `the ${role}'s`;
    return userName ? `${userName}'s` : `channel ${channel}'s`;
  }

  function link(text, href) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    a.setAttribute("download", "");
    return a;
  }

  function renderTimeline() {
    const segment = state.segment;
    const line = $("timeline");
    line.querySelectorAll(".marker, .gap").forEach((node) => node.remove());
    const total = duration(segment) || 1;
    line.setAttribute("aria-valuemax", String(Math.round(total)));
    const legend = [];
    const kinds = {
      "stream.started": ["start", "started"], "stream.connected": null, "stream.paused": ["pause", "paused"], "stream.unpaused": ["resume", "resumed"],
      "stream.interrupted": ["interruption", "connection lost"], "stream.resumed": ["resume", "reconnected"], "stream.stopped": ["stop", "stopped"],
      "stream.failed": ["interruption", "failed"],
    };
    for (const marker of state.call.markers.filter((m) => m.stream_id === segment.stream_id)) {
      const kind = kinds[marker.type];
      if (!kind) continue;
      const at = Math.min(offset(segment, marker.time_ms), total);
      const node = document.createElement("div");
      node.className = "marker";
      node.dataset.kind = kind[0];
      node.style.left = `${(at / total) * 100}%`;
      node.title = `${kind[1]} at ${clock(at)}${marker.detail ? `: ${marker.detail}` : ""}`;
      line.append(node);
      legend.push(node.title);
    }
    for (const player of state.players) {
      for (const gap of player.channel.audio.gaps ?? []) {
        const node = document.createElement("div");
        node.className = "gap";
        node.style.left = `${(gap.at_ms / 1000 / total) * 100}%`;
        node.style.width = `${(gap.duration_ms / 1000 / total) * 100}%`;
        node.title = `${(gap.duration_ms / 1000).toFixed(1)} s of ${possessive(player.channel.role, player.channel.user_name, player.channel.channel)} audio missing at ${clock(gap.at_ms / 1000)}`;
        line.append(node);
        legend.push(node.title);
      }
    }
    $("legend").replaceChildren(...legend.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  }

  function renderTranscript() {
    const list = $("transcript");
    const call = state.call;
    state.lines = call.transcript.map((line) => {
      const segment = segmentOf(line.stream_id) ?? call.segments[0];
      const at = segment ? offset(segment, line.start ?? line.time_ms) : 0;
      const item = document.createElement("li");
      if (line.role) item.dataset.role = line.role;
      item.dataset.stream = segment?.stream_id ?? "";
      item.dataset.offset = String(at);
      item.tabIndex = 0;
      const time = document.createElement("time");
      time.textContent = clock(at);
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = line.role ? title(line.role) : line.speaker || `Channel ${line.channel}`;
      who.title = line.speaker ?? "";
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = line.text;
      item.append(time, who, text);
      const seek = () => seekTo(item.dataset.stream, at);
      item.addEventListener("click", seek);
      item.addEventListener("keydown", (event) => { if (event.key === "Enter") seek(); });
      return { item, stream: item.dataset.stream, at };
    });
    list.replaceChildren(...state.lines.map((l) => l.item));
    if (!state.lines.length) list.append(Object.assign(document.createElement("li"), { textContent: "No transcript for this call." }));
  }

  async function seekTo(streamID, seconds) {
    if (state.segment?.stream_id !== streamID && segmentOf(streamID)) await loadSegment(streamID);
    for (const player of state.players) player.audio.currentTime = seconds;
    onTime();
  }

  function onTime() {
    const master = state.players[0]?.audio;
    const now = master?.currentTime ?? 0;
    const total = duration(state.segment ?? { channels: [] });
    $("clock").textContent = `${clock(now)} / ${clock(total)}`;
    $("progress").style.width = `${total ? Math.min(100, (now / total) * 100) : 0}%`;
    $("timeline").setAttribute("aria-valuenow", String(Math.round(now)));
    // Keep the other party in step with the first.
    for (const player of state.players.slice(1)) {
      if (Math.abs(player.audio.currentTime - now) > 0.15) player.audio.currentTime = now;
    }
    let current = null;
    for (const line of state.lines) if (line.stream === state.segment?.stream_id && line.at <= now + 0.05) current = line;
    for (const line of state.lines) line.item.classList.toggle("current", line === current);
    if (current && master && !master.paused) current.item.scrollIntoView({ block: "nearest" });
  }

  // MARK: controls

  $("play").addEventListener("click", async () => {
    const master = state.players[0]?.audio;
    if (!master) return;
    if (master.paused) {
      try {
        await Promise.all(state.players.map((p) => p.audio.play()));
        $("play").textContent = "Pause";
      } catch (error) {
        showMessage("error", `Cannot play: ${error.message}`);
      }
    } else {
      for (const player of state.players) player.audio.pause();
      $("play").textContent = "Play";
    }
  });
  $("speed").addEventListener("change", () => { for (const p of state.players) p.audio.playbackRate = Number($("speed").value); });
  $("segment").addEventListener("change", () => loadSegment($("segment").value));
  $("timeline").addEventListener("click", (event) => {
    if (!state.segment) return;
    const box = $("timeline").getBoundingClientRect();
    seekTo(state.segment.stream_id, ((event.clientX - box.left) / box.width) * duration(state.segment));
  });
  $("timeline").addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -5, ArrowRight: 5 }[event.key];
    if (!step || !state.players.length) return;
    seekTo(state.segment.stream_id, Math.max(0, state.players[0].audio.currentTime + step));
  });
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filters = filtersFromForm();
    history.replaceState(null, "", `?${state.filters}`);
    search(false);
  });
  $("more").addEventListener("click", () => search(true));

  // Filters from the address (a shared link), then the call in `#call=`.
  const initial = new URLSearchParams(location.search);
  for (const [key, value] of initial) { const input = $("search").elements.namedItem(key); if (input) input.value = value; }
  state.filters = filtersFromForm();
  search(false).then(() => {
    const id = new URLSearchParams(location.hash.slice(1)).get("call");
    if (id) openCall(id);
  });
})();
