import ArgumentParser
import Foundation
import Histogram
import SigV4Signer

/// `kms-load setup` makes the keys a server is benchmarked with; `kms-load run` drives one
/// scenario at a given concurrency for a bounded time and prints one JSON line: requests/s,
/// latency percentiles (every latency recorded in an HDR histogram) and errors. `kms-load
/// presign` writes one signed request of a scenario as a script for wrk, which replays it
/// (a client that costs the server's two cores almost nothing; scripts/benchmark-wrk).
@main
struct KMSLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kms-load", subcommands: [Setup.self, Run.self, Ready.self, Presign.self])

    struct Target: ParsableArguments {
        @Option(help: "Endpoint URL.") var endpoint = "http://127.0.0.1:9600"
        @Option(help: "Access key ID.") var accessKey = "AKIAIOSFODNN7EXAMPLE"
        @Option(help: "Secret access key.") var secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        @Option(help: "Region of the credential scope.") var region = "us-east-1"

        func client(connections: Int) -> KMSClient {
            KMSClient(endpoint: endpoint, signer: SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: region), connections: connections)
        }
    }

    struct Setup: AsyncParsableCommand {
        @OptionGroup var target: Target
        @Option(help: "Symmetric keys to make (each with a 100-byte ciphertext).") var keys = 100
        @Option(help: "Comma-separated other key specs to make one key of.") var kinds = "HMAC_256,ECC_NIST_P256,ECC_NIST_EDWARDS25519,RSA_2048"
        @Option(help: "Where to write the fixture (JSON).") var out: String

        func run() async throws {
            let client = target.client(connections: 16)
            do {
                try await Fixture.make(client, keys: keys, kinds: Set(kinds.split(separator: ",").map(String.init))).save(out)
            } catch {
                try await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    struct Run: AsyncParsableCommand {
        @OptionGroup var target: Target
        @Option(help: "Scenario: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).") var scenario: Scenario
        @Option(help: "Fixture made by setup.") var fixture: String
        @Option(help: "Use the fixture's first N symmetric keys.") var keys = 1
        @Option(help: "Concurrent requests (one kept-alive connection each).") var concurrency = 16
        @Option(help: "Seconds measured, after --warmup seconds not measured.") var duration = 5.0
        @Option(help: "Seconds of warm-up.") var warmup = 1.0
        @Option(help: "A label for the JSON line (which server this is).") var label = "swiftkms"

        func run() async throws {
            let f = try Fixture.load(fixture)
            guard scenario.isRunnable(with: f) else { throw LoadError("the fixture has no key for \(scenario.rawValue)") }
            let keys = min(self.keys, f.symmetric.count)
            let client = target.client(connections: concurrency)
            let scenario = self.scenario
            let start = ContinuousClock.now
            let measureFrom = start + .milliseconds(Int(warmup * 1000))
            let end = measureFrom + .milliseconds(Int(duration * 1000))
            let results = await withTaskGroup(of: (Histogram<UInt64>, Int, String?).self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                        var errors = 0
                        var firstError: String?
                        var n = worker
                        while true {
                            let (operation, body) = scenario.request(n, f, keys: keys)
                            n += concurrency
                            let sent = ContinuousClock.now
                            if sent >= end { break }
                            var failed = false
                            do {
                                let (status, data) = try await client.call(operation, body)
                                if status != 200 {
                                    failed = true
                                    if firstError == nil { firstError = "\(status) \(String(buffer: data).prefix(200))" }
                                }
                            } catch {
                                failed = true
                                if firstError == nil { firstError = "\(error)" }
                            }
                            guard sent >= measureFrom else { continue }
                            if failed {
                                errors += 1
                                continue
                            }
                            let elapsed = ContinuousClock.now - sent
                            _ = histogram.record(
                                UInt64(max(1, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)))
                        }
                        return (histogram, errors, firstError)
                    }
                }
                var all = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                var errors = 0
                var firstError: String?
                for await (h, e, message) in group {
                    all.add(h)
                    errors += e
                    firstError = firstError ?? message
                }
                return (all, errors, firstError)
            }
            try await client.shutdown()
            let (histogram, errors, firstError) = results
            func ms(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
            var line: [String: Any] = [
                "label": label, "scenario": scenario.rawValue, "concurrency": concurrency, "keys": keys, "seconds": duration,
                "requests": Int(histogram.totalCount), "errors": errors, "rps": Double(histogram.totalCount) / duration,
                "p50_ms": ms(50), "p99_ms": ms(99), "p999_ms": ms(99.9), "max_ms": Double(histogram.max) / 1000,
            ]
            if let firstError { line["first_error"] = firstError }
            print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
        }
    }

    /// The first `--requests` requests of a scenario, signed now, as a wrk script that sends them
    /// in turn again and again. SigV4 lets a signed request be replayed for 15 minutes, and
    /// KMS's operations answer a replay as a new request (Encrypt makes a new ciphertext each time).
    struct Presign: AsyncParsableCommand {
        @OptionGroup var target: Target
        @Option(help: "Scenario: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).") var scenario: Scenario
        @Option(help: "Fixture made by setup.") var fixture: String
        @Option(help: "Where to write the wrk script (Lua).") var out: String
        @Option(help: "Requests of the scenario to sign (a single request is wrk's fastest path).") var requests = 1
        @Option(help: "Use the fixture's first N symmetric keys.") var keys = 1

        func run() async throws {
            let f = try Fixture.load(fixture)
            guard scenario.isRunnable(with: f), scenario != .mixed, requests >= 1, (1...f.symmetric.count).contains(keys) else {
                throw LoadError("cannot presign \(scenario.rawValue) with these options")
            }
            guard let url = URL(string: target.endpoint), let name = url.host else { throw LoadError("not an endpoint URL: \(target.endpoint)") }
            let host = name + (url.port.map { ":\($0)" } ?? "")
            let signer = SigV4Signer(accessKey: target.accessKey, secretKey: target.secretKey, region: target.region)
            func lua(_ text: String) -> String {
                "\"" + text.unicodeScalars.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : String($0) }.joined() + "\""
            }
            func signed(_ n: Int) -> (headers: [(String, String)], body: String) {
                let (operation, body) = scenario.request(n, f, keys: keys)
                return (signer.headers(host: host, operation: operation, body: body) + [("Host", host)], String(decoding: body, as: UTF8.self))
            }
            var script = "-- kms-load presign: \(scenario.rawValue), signed \(Date()), valid 15 minutes\n"
            script += "wrk.method = \"POST\"\nwrk.path = \"/\"\n"
            if requests == 1 {
                let (headers, body) = signed(0)
                for (name, value) in headers { script += "wrk.headers[\(lua(name))] = \(lua(value))\n" }
                script += "wrk.body = \(lua(body))\n"
            } else {
                // In functions of 1,000 requests: Lua allows a function 65,536 constants.
                script += "local signed = {}\n"
                for n in 0..<requests {
                    if n % 1000 == 0 { script += ";(function()\n" }
                    let (headers, body) = signed(n)
                    let table = headers.map { "[\(lua($0.0))] = \(lua($0.1))" }.joined(separator: ", ")
                    script += "signed[\(n + 1)] = wrk.format(\"POST\", \"/\", {\(table)}, \(lua(body)))\n"
                    if n % 1000 == 999 || n == requests - 1 { script += "end)()\n" }
                }
                // Each thread starts at its own place in the list, so that writes spread out. The
                // garbage of building the list is collected before the run, not during it.
                script += """
                    local next = 1
                    setup = function(thread) thread:set("offset", math.random(#signed)) end
                    init = function() next = (offset or 1); collectgarbage() end
                    request = function()
                      local r = signed[next]
                      next = next % #signed + 1
                      return r
                    end

                    """
            }
            // One JSON line at the end, with the percentiles wrk's report leaves out (p99.9) and
            // every kind of error together (a non-2xx answer is one).
            script += """
                done = function(summary, latency, requests)
                  local e = summary.errors
                  io.write(string.format('{"requests": %d, "errors": %d, "seconds": %.3f, "p50_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d}\\n',
                    summary.requests, e.connect + e.read + e.write + e.status + e.timeout, summary.duration / 1e6,
                    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
                end

                """
            try Data(script.utf8).write(to: URL(fileURLWithPath: out))
        }
    }

    /// Waits until the server answers DescribeKey, and prints the seconds since `--since`
    /// (epoch seconds): the start-up time to the first answered request.
    struct Ready: AsyncParsableCommand {
        @OptionGroup var target: Target
        @Option(help: "Fixture made by setup.") var fixture: String
        @Option(help: "Epoch seconds the server was started at.") var since: Double
        @Option(help: "Give up after this many seconds.") var timeout = 60.0

        func run() async throws {
            let f = try Fixture.load(fixture)
            let client = target.client(connections: 1)
            let body = Array(try JSONSerialization.data(withJSONObject: ["KeyId": f.symmetric[0]]))
            while Date().timeIntervalSince1970 - since < timeout {
                if let (status, _) = try? await client.call("DescribeKey", body), status == 200 {
                    print(String(format: "%.3f", Date().timeIntervalSince1970 - since))
                    try await client.shutdown()
                    return
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            try await client.shutdown()
            throw LoadError("no answer within \(timeout) s")
        }
    }
}
