import Foundation
import Testing

@testable import KMSCore

/// UTC timestamps against Foundation's ISO 8601 formatter, which they replace on the hot path.
@Suite struct UTCTimeTests {
    /// Instants across leap days, centuries, the epoch and before it, with fractions of a second.
    static let instants: [TimeInterval] = [
        0, -1, 0.999, 951_782_400, 951_868_799.5, 1_709_164_800, 1_795_000_000.25,
        4_102_444_800, -2_208_988_800, 253_402_300_799,
    ]

    @Test(arguments: instants)
    func formatsAsFoundationDoes(_ seconds: TimeInterval) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(UTCTime.extended(date) == Date.ISO8601FormatStyle().format(date))
        #expect(UTCTime.basic(date) == Date.ISO8601FormatStyle(dateSeparator: .omitted, timeSeparator: .omitted).format(date))
    }

    @Test(arguments: instants)
    func parsesWhatItFormats(_ seconds: TimeInterval) {
        let date = Date(timeIntervalSince1970: seconds.rounded(.down))
        #expect(UTCTime.parseBasic(UTCTime.basic(date)) == date)
    }

    @Test func knownValues() {
        #expect(UTCTime.parseBasic("20150830T123600Z") == Date(timeIntervalSince1970: 1_440_938_160))
        #expect(UTCTime.parseBasic("20240229T235959Z") == Date(timeIntervalSince1970: 1_709_251_199))
        #expect(UTCTime.extended(Date(timeIntervalSince1970: 1_440_938_160)) == "2015-08-30T12:36:00Z")
    }

    @Test(arguments: [
        "", "20150830T123600", "20150830T123600z", "20150830t123600Z", "2015-08-30T12:36:00Z", "20150830T1236000Z",
        "20150230T123600Z", "20230229T000000Z", "20151330T123600Z", "20150800T123600Z", "20150830T243600Z",
        "20150830T126000Z", "20150830T123660Z", "2015083OT123600Z", "+0150830T123600Z", "20150830T123600+0000",
        "２０15083T123600Z",
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(UTCTime.parseBasic(text) == nil)
    }
}
