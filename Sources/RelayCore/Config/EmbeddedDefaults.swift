/// The configuration `serve` uses when there is no config file: loopback only, data under `./data`,
/// Zoom credentials from the environment when set (README.md, "Configuration"). It goes through the same loader as a file,
/// so it is checked the same way.
enum EmbeddedDefaults {
    static let yaml = """
        server:
          host: 127.0.0.1
          port: 3001
          public_url: ${PUBLIC_URL:-http://localhost:3001}
          access_token: ${RELAY_ACCESS_TOKEN:-}
          allow_anonymous: false
          max_body_bytes: 262144
        zoom:
          client_id: ${ZOOM_APP_CLIENT_ID:-}
          client_secret: ${ZOOM_APP_CLIENT_SECRET:-}
          webhook_secret: ${ZOOM_SECRET_TOKEN:-}
          oauth_url: https://zoom.us
          api_url: https://api.zoom.us/v2
          rtms_allowed_hosts: ["*.zoom.us"]
          webhook_tolerance_seconds: 300
          transcripts: true
        token_store:
          kind: sqlite
          path: data/relay.sqlite
        sinks:
          agent_page:
            type: web
            status_every_chunks: 50
            queue: {capacity: 10000, overflow: drop_oldest}
          qa_recordings:
            type: wav
            directory: data/recordings
            mix: stereo
          archive:
            type: sqlite
            path: data/archive.sqlite
          events_log:
            type: jsonl
            path: data/events.jsonl
            queue: {capacity: 10000, overflow: drop_newest}
        """
}
