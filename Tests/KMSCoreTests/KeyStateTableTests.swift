import Foundation
import Testing

@testable import KMSCore

/// `KeyLifecycle` against AWS's key-state table, every state with every event and every
/// action, without storage. The expected tables are spelled here by state, independently of
/// the switch-by-event and switch-by-action of the code.
@Suite struct KeyStateTableTests {
    static func key(in state: KeyState) -> KMSKey {
        KMSKey(
            id: "1234abcd-12ab-34cd-56ef-1234567890ab", account: "111122223333", region: "us-east-1", creationDate: Date(timeIntervalSince1970: 0),
            description: "", usage: .encryptDecrypt, spec: .symmetricDefault, origin: .external, state: state, policy: "{}")
    }

    /// The state after each event, by state; nil where the event is refused (`KMSInvalidStateException`).
    static let transitions: [KeyState: [KeyLifecycle.Event: KeyState?]] = [
        .enabled: [
            .enable: .enabled, .disable: .disabled, .scheduleDeletion(hasReplicas: false): .pendingDeletion,
            .scheduleDeletion(hasReplicas: true): .pendingReplicaDeletion, .lastReplicaDeleted: .enabled,
            .cancelDeletion(hasMaterial: true): nil, .cancelDeletion(hasMaterial: false): nil,
            .currentMaterialImported: .enabled, .currentMaterialDeleted: .pendingImport,
        ],
        .disabled: [
            .enable: .enabled, .disable: .disabled, .scheduleDeletion(hasReplicas: false): .pendingDeletion,
            .scheduleDeletion(hasReplicas: true): .pendingReplicaDeletion, .lastReplicaDeleted: .disabled,
            .cancelDeletion(hasMaterial: true): nil, .cancelDeletion(hasMaterial: false): nil,
            .currentMaterialImported: .disabled, .currentMaterialDeleted: .pendingImport,
        ],
        .pendingImport: [
            .enable: nil, .disable: nil, .scheduleDeletion(hasReplicas: false): .pendingDeletion,
            .scheduleDeletion(hasReplicas: true): .pendingReplicaDeletion, .lastReplicaDeleted: .pendingImport,
            .cancelDeletion(hasMaterial: true): nil, .cancelDeletion(hasMaterial: false): nil,
            .currentMaterialImported: .enabled, .currentMaterialDeleted: .pendingImport,
        ],
        .pendingDeletion: [
            .enable: nil, .disable: nil, .scheduleDeletion(hasReplicas: false): nil,
            .scheduleDeletion(hasReplicas: true): nil, .lastReplicaDeleted: .pendingDeletion,
            .cancelDeletion(hasMaterial: true): .disabled, .cancelDeletion(hasMaterial: false): .pendingImport,
            .currentMaterialImported: .pendingDeletion, .currentMaterialDeleted: .pendingDeletion,
        ],
        .pendingReplicaDeletion: [
            .enable: nil, .disable: nil, .scheduleDeletion(hasReplicas: false): nil,
            .scheduleDeletion(hasReplicas: true): nil, .lastReplicaDeleted: .pendingDeletion,
            .cancelDeletion(hasMaterial: true): .disabled, .cancelDeletion(hasMaterial: false): .pendingImport,
            .currentMaterialImported: .pendingReplicaDeletion, .currentMaterialDeleted: .pendingReplicaDeletion,
        ],
        .unavailable: [
            .enable: nil, .disable: nil, .scheduleDeletion(hasReplicas: false): .pendingDeletion,
            .scheduleDeletion(hasReplicas: true): .pendingReplicaDeletion, .lastReplicaDeleted: .unavailable,
            .cancelDeletion(hasMaterial: true): nil, .cancelDeletion(hasMaterial: false): nil,
            .currentMaterialImported: .unavailable, .currentMaterialDeleted: .pendingImport,
        ],
        .creating: [
            .enable: nil, .disable: nil, .scheduleDeletion(hasReplicas: false): .pendingDeletion,
            .scheduleDeletion(hasReplicas: true): .pendingReplicaDeletion, .lastReplicaDeleted: .creating,
            .cancelDeletion(hasMaterial: true): nil, .cancelDeletion(hasMaterial: false): nil,
            .currentMaterialImported: .creating, .currentMaterialDeleted: .pendingImport,
        ],
        .updating: [
            .enable: nil, .disable: nil, .scheduleDeletion(hasReplicas: false): .pendingDeletion,
            .scheduleDeletion(hasReplicas: true): .pendingReplicaDeletion, .lastReplicaDeleted: .updating,
            .cancelDeletion(hasMaterial: true): nil, .cancelDeletion(hasMaterial: false): nil,
            .currentMaterialImported: .updating, .currentMaterialDeleted: .pendingImport,
        ],
    ]

    @Test(arguments: KeyState.allCases)
    func everyEventInEveryState(_ state: KeyState) throws {
        let row = try #require(Self.transitions[state])
        #expect(row.count == 9, "every event has a cell")
        for (event, expected) in row {
            let key = Self.key(in: state)
            if let expected = expected {
                #expect(try KeyLifecycle.state(after: event, of: key) == expected, "\(state) on \(event)")
            } else {
                expectKMSError(.invalidState, "\(state) on \(event)") { _ = try KeyLifecycle.state(after: event, of: key) }
            }
        }
    }

    /// Which error each requirement gives in each state; nil: allowed.
    static let refusals: [KeyLifecycle.Requirement: [KeyState: KMSError.Code]] = [
        .none: [:],
        .enabled: [
            .disabled: .disabled, .pendingImport: .invalidState, .pendingDeletion: .invalidState, .pendingReplicaDeletion: .invalidState,
            .unavailable: .invalidState, .creating: .invalidState, .updating: .invalidState,
        ],
        .notPendingDeletion: [.pendingDeletion: .invalidState, .pendingReplicaDeletion: .invalidState],
        .available: [.pendingDeletion: .invalidState, .pendingReplicaDeletion: .invalidState, .unavailable: .invalidState],
        .importable: [
            .disabled: .invalidState, .pendingDeletion: .invalidState, .pendingReplicaDeletion: .invalidState,
            .unavailable: .invalidState, .creating: .invalidState, .updating: .invalidState,
        ],
        .replicable: [
            .disabled: .disabled, .pendingDeletion: .invalidState, .pendingReplicaDeletion: .invalidState,
            .unavailable: .invalidState, .creating: .invalidState, .updating: .invalidState,
        ],
    ]

    @Test(arguments: KMSAction.allCases)
    func everyActionInEveryState(_ action: KMSAction) throws {
        let requirement = KeyLifecycle.requirement(of: action)
        let refused = try #require(Self.refusals[requirement])
        for state in KeyState.allCases {
            do {
                try KeyLifecycle.check(action, on: Self.key(in: state))
                #expect(refused[state] == nil, "\(action) allowed in \(state)")
            } catch {
                #expect(error.code == refused[state], "\(action) in \(state)")
            }
        }
    }

    /// The cryptographic operations (and those a grant can allow but DescribeKey, CreateGrant
    /// and RetireGrant) need an enabled key.
    @Test func cryptographicActionsNeedAnEnabledKey() {
        for operation in GrantOperation.allCases where ![.describeKey, .retireGrant].contains(operation) {
            let action = KMSAction.allCases.first { $0.grantOperation == operation }
            #expect(action.map(KeyLifecycle.requirement(of:)) == .enabled, "\(operation)")
        }
        #expect(KeyLifecycle.initialState(origin: .external) == .pendingImport && KeyLifecycle.initialState(origin: .awsKMS) == .enabled)
    }
}
