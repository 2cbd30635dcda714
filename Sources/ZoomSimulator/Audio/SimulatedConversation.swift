/// The scripted call every simulated engagement plays: the agent and the caller take turns, one line of the script
/// each, with a short pause before every turn. The script repeats for as long as the call lasts.
///
/// Everything is counted in 20 ms frames from the stream's first frame, so the audio (`SimulatedAudio.frame`) and
/// the transcript segments (MEDIA_DATA_TRANSCRIPT, 17) are two views of the same timeline: a party speaks exactly
/// during the frames of its turns, and the segment of a turn carries that turn's line, start and end.
/// `Tests/Conformance/conformance.py` re-implements the timeline in Python.
public enum SimulatedConversation {
    /// One line of the script: who says it (0 agent, 1 caller, as `SimulatedAudio.channelIDs`) and the words.
    public struct Line: Sendable, Equatable {
        public var party: Int
        public var text: String
    }

    /// One turn of the endless call: a line and the frames it is spoken in (frame 0 is the stream's first frame).
    public struct Turn: Sendable, Equatable {
        /// Turns since the start of the call (the script's line is `number % lines.count`).
        public var number: Int
        public var party: Int
        public var text: String
        public var frames: Range<Int>
    }

    /// A contact-center call about a double charge, alternating agent and caller.
    public static let lines: [Line] = [
        Line(party: 0, text: "Thanks for calling Northwind, this is Alex. How can I help?"),
        Line(party: 1, text: "Hi Alex, I was charged twice for one order and I need a refund."),
        Line(party: 0, text: "I'm sorry about that. Could you read me the invoice number, please?"),
        Line(party: 1, text: "Sure, the invoice number is four seven two nine one."),
        Line(party: 0, text: "Thanks. I can see two payments of forty nine dollars on the same day."),
        Line(party: 1, text: "Right, I only ordered once, so one of them is a mistake."),
        Line(party: 0, text: "I've issued a refund for the duplicate payment just now."),
        Line(party: 1, text: "Great. How long will it take to show up on my card?"),
        Line(party: 0, text: "Usually three to five business days, depending on your bank."),
        Line(party: 1, text: "Okay. Could you also send me a corrected invoice?"),
        Line(party: 0, text: "Yes, I'll email a new invoice to the address on your account."),
        Line(party: 1, text: "Perfect, that's the one I use for all my orders."),
        Line(party: 0, text: "Is there anything else I can help you with today?"),
        Line(party: 1, text: "No, that's everything. Thanks for sorting it out so quickly."),
        Line(party: 0, text: "You're welcome. Have a great day, and thanks for calling Northwind."),
        Line(party: 1, text: "You too, bye."),
    ]

    /// Near-silence before every turn (and so between turns): 500 ms.
    public static let pauseFrames = 25
    /// One syllable lasts 200 ms (a speaking rate of five syllables a second).
    public static let framesPerSyllable = 10

    /// The syllables a line is spoken in: four for every three words, rounded.
    public static func syllables(_ text: String) -> Int {
        let words = text.split(separator: " ").count
        return (4 * words + 1) / 3
    }

    /// The turns of one pass through the script; the call repeats them every `cycleFrames` frames.
    public static let script: [Turn] = {
        var turns: [Turn] = []
        var next = 0
        for (number, line) in lines.enumerated() {
            let start = next + pauseFrames
            next = start + syllables(line.text) * framesPerSyllable
            turns.append(Turn(number: number, party: line.party, text: line.text, frames: start..<next))
        }
        return turns
    }()

    /// Frames of one pass through the script: the end of its last turn.
    public static let cycleFrames = script[script.count - 1].frames.upperBound

    /// Turn `number` of the call (the script repeats): its party, line and frames counted from the call's start.
    public static func turn(_ number: Int) -> Turn {
        let pass = number / script.count
        var turn = script[number % script.count]
        turn.number = number
        turn.frames = (turn.frames.lowerBound + pass * cycleFrames)..<(turn.frames.upperBound + pass * cycleFrames)
        return turn
    }

    /// The first turn that starts at frame `index` or later.
    public static func firstTurn(startingAtOrAfter index: Int) -> Int {
        let pass = max(0, index) / cycleFrames
        let position = max(0, index) % cycleFrames
        let inPass = script.firstIndex { $0.frames.lowerBound >= position } ?? script.count
        return pass * script.count + inPass
    }

    /// The turn of the script being spoken at frame `position` of a pass (0..<cycleFrames); nil during a pause.
    static func speaking(at position: Int) -> Turn? {
        script.first { $0.frames.contains(position) }
    }
}
