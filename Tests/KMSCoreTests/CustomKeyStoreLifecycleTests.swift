import Testing

@testable import KMSCore

/// `CustomKeyStoreLifecycle` against AWS's documented rules: every action from every state.
@Suite struct CustomKeyStoreLifecycleTests {
    /// The next state, nil for "allowed, no change", or "refused".
    enum Outcome: Equatable {
        case to(ConnectionState?)
        case refused
    }

    static let table: [CustomKeyStoreLifecycle.Action: [ConnectionState: Outcome]] = [
        .connect: [
            .disconnected: .to(.connecting), .connecting: .to(nil), .connected: .to(nil), .disconnecting: .refused, .failed: .refused,
        ],
        .disconnect: [
            .connected: .to(.disconnecting), .connecting: .to(.disconnecting), .failed: .to(.disconnecting), .disconnecting: .refused,
            .disconnected: .refused,
        ],
        .delete: [.disconnected: .to(nil), .connected: .refused, .connecting: .refused, .disconnecting: .refused, .failed: .refused],
        .update: [.disconnected: .to(nil), .connected: .refused, .connecting: .refused, .disconnecting: .refused, .failed: .refused],
        .rename: [.disconnected: .to(nil), .connected: .to(nil), .connecting: .refused, .disconnecting: .refused, .failed: .refused],
        .createKey: [.connected: .to(nil), .disconnected: .refused, .connecting: .refused, .disconnecting: .refused, .failed: .refused],
        .generateRandom: [.connected: .to(nil), .disconnected: .refused, .connecting: .refused, .disconnecting: .refused, .failed: .refused],
    ]

    @Test func everyActionFromEveryState() {
        for action in CustomKeyStoreLifecycle.Action.allCases {
            for state in ConnectionState.allCases {
                guard let expected = Self.table[action]?[state] else {
                    Issue.record("no cell for \(action) in \(state)")
                    continue
                }
                let outcome: Outcome
                do {
                    outcome = .to(try CustomKeyStoreLifecycle.check(action, in: state, store: "cks-1234567890abcdef0"))
                } catch {
                    #expect(error.code == .customKeyStoreInvalidState && error.message.contains(state.rawValue))
                    outcome = .refused
                }
                #expect(outcome == expected, "\(action) in \(state)")
            }
        }
    }
}
