import Foundation
import Testing
import OCIFormat

/// docker/go-units: HumanSizeWithPrecision(size, 3) for docker's SIZE
/// columns, HumanSize (4 digits) and BytesSize (binary, 4 digits).
@Test(arguments: [
    (0.0, "0B"), (10, "10B"), (999, "999B"), (1000, "1kB"), (1024, "1.02kB"), (43_500, "43.5kB"), (20_480, "20.5kB"),
    (1_048_576, "1.05MB"), (2_300_000, "2.3MB"), (999_999, "1e+03kB"), (3.42e9, "3.42GB"), (5.372e12, "5.37TB"),
    (1e25, "10YB"), (1e28, "1e+04YB"),
])
func humanSize(bytes: Double, expected: String) {
    #expect(DockerUnits.humanSize(bytes) == expected)
}

@Test func humanSizeOtherPrecisionsAndBinary() {
    #expect(DockerUnits.humanSize(1024, precision: 4) == "1.024kB")
    #expect(DockerUnits.humanSize(1_048_576, precision: 4) == "1.049MB")
    #expect(DockerUnits.humanSize(5.372e12, precision: 4) == "5.372TB")
    #expect(DockerUnits.bytesSize(1024) == "1KiB")
    #expect(DockerUnits.bytesSize(1_048_576) == "1MiB")
    #expect(DockerUnits.bytesSize(3.42 * 1_073_741_824) == "3.42GiB")
    #expect(DockerUnits.bytesSize(500) == "500B")
}

private let minute = 60.0, hour = 3600.0, day = 86_400.0, week = 7 * 86_400.0, month = 30 * 86_400.0, year = 365 * 86_400.0

@Test(arguments: [
    (0.45, "Less than a second"), (-5, "Less than a second"), (1, "1 second"), (47, "47 seconds"), (59.9, "59 seconds"),
    (minute, "About a minute"), (119, "About a minute"), (3 * minute, "3 minutes"), (35 * minute + 40, "35 minutes"),
    (59 * minute, "59 minutes"), (hour, "About an hour"), (hour + 29 * minute, "About an hour"),
    (hour + 31 * minute, "2 hours"), (3 * hour + 59 * minute, "4 hours"), (day, "24 hours"), (day + 12 * hour, "36 hours"),
    (2 * day, "2 days"), (13 * day + 5 * hour, "13 days"), (2 * week, "2 weeks"), (month, "4 weeks"),
    (month + 2 * week, "6 weeks"), (2 * month, "2 months"), (5 * month + 2 * week, "5 months"), (24 * month, "24 months"),
    (24 * month + 2 * week, "2 years"), (3 * year + 2 * month, "3 years"), (.infinity, "Less than a second"),
] as [(Double, String)])
func humanDuration(seconds: Double, expected: String) {
    #expect(DockerUnits.humanDuration(seconds) == expected)
}

@Test func timestamps() throws {
    let created = Date(timeIntervalSince1970: 1_700_000_000)
    #expect(DockerUnits.createdSince(created, now: created.addingTimeInterval(240)) == "4 minutes ago")
    #expect(DockerUnits.rfc3339(created) == "2023-11-14T22:13:20Z")
    let utc = try #require(TimeZone(identifier: "Etc/UTC"))
    #expect(DockerUnits.createdAt(created, timeZone: utc) == "2023-11-14 22:13:20 +0000 UTC")
    let newYork = try #require(TimeZone(identifier: "America/New_York"))
    #expect(DockerUnits.createdAt(created, timeZone: newYork) == "2023-11-14 17:13:20 -0500 EST")
    let dubai = try #require(TimeZone(identifier: "Asia/Dubai"))
    #expect(DockerUnits.createdAt(created.addingTimeInterval(0.75), timeZone: dubai) == "2023-11-15 02:13:20 +0400 +04")
    let paris = try #require(TimeZone(identifier: "Europe/Paris"))
    #expect(DockerUnits.createdAt(Date(timeIntervalSince1970: 1_690_000_000), timeZone: paris) == "2023-07-22 06:26:40 +0200 CEST")
    let kolkata = try #require(TimeZone(identifier: "Asia/Kolkata"))
    #expect(DockerUnits.createdAt(created, timeZone: kolkata) == "2023-11-15 03:43:20 +0530 IST")
}
