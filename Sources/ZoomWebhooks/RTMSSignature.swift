/// The RTMS handshake signature (docs/zoom-rtms.md, "Signaling handshake"): `hex(HMAC_SHA256(client_secret, "client_id,instance_id,stream_id"))`.
///
/// The instance id is the engagement id for ZCC and the meeting UUID (byte for byte, no URL-encoding) for
/// meetings. The same value goes into the signaling (1) and data (3) handshakes.
public enum RTMSSignature {
    public static func compute(clientID: String, clientSecret: String, instanceID: String, streamID: String) -> String {
        HMACHex.sha256(key: clientSecret, message: "\(clientID),\(instanceID),\(streamID)")
    }
}
