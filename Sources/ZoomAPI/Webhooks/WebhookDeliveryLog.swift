/// Where `WebhookReceiver` also records the deliveries it accepted, so that its dedupe survives a restart: a
/// captured signed delivery replayed right after a restart (within `zoom.webhook_tolerance_seconds`) is still
/// recognised. `SQLiteTokenStore` implements it in the token database. In cluster mode the cluster's Redis claim
/// (`{p}webhook:*`, 2 h) already outlives an instance.
public protocol WebhookDeliveryLog: Sendable {
    /// Records `key` seen at `at` (Unix seconds) and forgets keys older than `forgetBefore`; false when `key` was
    /// already recorded. Synchronous: the receiver answers Zoom only after the record is written.
    func recordDelivery(key: String, at: Int64, forgetBefore: Int64) throws -> Bool
}
