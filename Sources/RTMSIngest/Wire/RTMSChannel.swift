/// Which party a media message (audio or transcript) belongs to (docs/zoom-rtms.md, "Message types"): its
/// `channel_id`, else its `user_id`, else `"0"`; an empty string counts as missing. Audio and transcripts use this
/// one rule, so a party's transcript lands on the same channel as its audio.
enum RTMSChannel {
    static func id(channelID: String?, userID: String?) -> String {
        if let channelID, !channelID.isEmpty { return channelID }
        if let userID, !userID.isEmpty { return userID }
        return "0"
    }
}
