import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fixed-width UTC timestamps of the wire and of audit events, in whole seconds.
///
/// Converted by the C library (`gmtime_r`, `timegm`): Foundation's `ISO8601FormatStyle` builds
/// a Gregorian calendar and date components for each call, and every request parses one of
/// these (`X-Amz-Date`) and formats another (the audit event's `eventTime`).
public enum UTCTime {
    /// `2026-11-22T10:00:00Z`: ISO 8601 extended format, fractions of a second dropped.
    public static func extended(_ date: Date) -> String {
        guard let fields = fields(date) else { return Date.ISO8601FormatStyle().format(date) }
        return format(fields, dateSeparator: UInt8(ascii: "-"), timeSeparator: UInt8(ascii: ":"))
    }

    /// `20261122T100000Z`: ISO 8601 basic format, as `X-Amz-Date` and SigV4 write it.
    public static func basic(_ date: Date) -> String {
        guard let fields = fields(date) else { return Date.ISO8601FormatStyle(dateSeparator: .omitted, timeSeparator: .omitted).format(date) }
        return format(fields, dateSeparator: nil, timeSeparator: nil)
    }

    /// Exactly `yyyyMMdd'T'HHmmss'Z'` naming a real instant (no 30 February, no hour 24);
    /// nil otherwise.
    public static func parseBasic(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15)
        else { return nil }
        var parts = tm()
        (parts.tm_year, parts.tm_mon, parts.tm_mday) = (year - 1900, month - 1, day)
        (parts.tm_hour, parts.tm_min, parts.tm_sec) = (hour, minute, second)
        let seconds = timegm(&parts)
        // timegm carries out-of-range fields over (30 February becomes 2 March): such a date
        // comes back different and is refused.
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        guard let back = fields(date), back.year == Int(year), back.month == Int(month), back.day == Int(day),
            back.hour == Int(hour), back.minute == Int(minute), back.second == Int(second)
        else { return nil }
        return date
    }

    private struct Fields {
        var year, month, day, hour, minute, second: Int
    }

    /// The date's UTC fields, nil for years outside 0…9999 (which four digits cannot write).
    private static func fields(_ date: Date) -> Fields? {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.magnitude < 1e15 else { return nil }
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return nil }
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else { return nil }
        return Fields(
            year: year, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
    }

    /// `yyyy?MM?ddThh?mm?ssZ`, each `?` the separator given (none when nil).
    private static func format(_ fields: Fields, dateSeparator: UInt8?, timeSeparator: UInt8?) -> String {
        String(unsafeUninitializedCapacity: 20) { buffer in
            var count = 0
            func put(_ value: Int, width: Int) {
                var value = value
                for position in stride(from: width - 1, through: 0, by: -1) {
                    buffer[count + position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                count += width
            }
            func put(_ byte: UInt8?) {
                guard let byte else { return }
                buffer[count] = byte
                count += 1
            }
            for (value, width, separator) in [
                (fields.year, 4, dateSeparator), (fields.month, 2, dateSeparator), (fields.day, 2, UInt8(ascii: "T")),
                (fields.hour, 2, timeSeparator), (fields.minute, 2, timeSeparator), (fields.second, 2, UInt8(ascii: "Z")),
            ] {
                put(value, width: width)
                put(separator)
            }
            return count
        }
    }
}

extension Date {
    /// Milliseconds since 1970, as the stores and audit event IDs keep times.
    public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    public init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}
