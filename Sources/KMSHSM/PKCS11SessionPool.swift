import CPKCS11
import Synchronization

/// Logged-in sessions on one token, reused: a session serves one caller at a time, and opening
/// one (with its login) costs more than the operation. At most `limit` are open; a caller
/// finding none free opens one up to the limit, and beyond it waits for one to come back.
public final class PKCS11SessionPool: Sendable {
    private struct State {
        var idle: [PKCS11Session] = []
        var open = 0
        var waiting: [CheckedContinuation<Result<PKCS11Session, PKCS11Error>, Never>] = []
    }

    let module: PKCS11Module
    let slot: CK_SLOT_ID
    private let pin: String
    private let limit: Int
    private let state = Mutex(State())

    public init(module: PKCS11Module, slot: CK_SLOT_ID, pin: String, limit: Int = 8) {
        self.module = module
        self.slot = slot
        self.pin = pin
        self.limit = limit
    }

    /// Runs `work` on a session of the pool. A session whose call failed with a session or
    /// device error is closed rather than returned (the token may have gone away).
    public func withSession<T>(_ work: (PKCS11Session) throws(PKCS11Error) -> T) async throws(PKCS11Error) -> T {
        let session = try await take()
        do {
            let result = try work(session)
            give(back: session)
            return result
        } catch {
            if Self.brokenSession.contains(error.code) { discard() } else { give(back: session) }
            throw error
        }
    }

    static let brokenSession: Set<UInt> = [
        UInt(CKR_SESSION_HANDLE_INVALID), UInt(CKR_SESSION_CLOSED), UInt(CKR_DEVICE_REMOVED), UInt(CKR_TOKEN_NOT_PRESENT),
        UInt(CKR_DEVICE_ERROR), UInt(CKR_USER_NOT_LOGGED_IN),
    ]

    private enum Next {
        case session(PKCS11Session)
        case open
        case wait
    }

    private func take() async throws(PKCS11Error) -> PKCS11Session {
        let next = state.withLock { state -> Next in
            if let session = state.idle.popLast() { return .session(session) }
            guard state.open < limit else { return .wait }
            state.open += 1
            return .open
        }
        switch next {
        case .session(let session): return session
        case .open:
            do {
                return try PKCS11Session(module: module, slot: slot, pin: pin)
            } catch {
                discard()
                throw error
            }
        case .wait:
            return try await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> PKCS11Session? in
                    if let session = state.idle.popLast() { return session }
                    state.waiting.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: .success(ready)) }
            }.get()
        }
    }

    private func give(back session: PKCS11Session) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<PKCS11Session, PKCS11Error>, Never>? in
            if !state.waiting.isEmpty { return state.waiting.removeFirst() }
            state.idle.append(session)
            return nil
        }
        waiter?.resume(returning: .success(session))
    }

    /// A session closed for good (or never opened): its place goes to the first waiter, with a
    /// new session or the error opening one gave, or is freed.
    private func discard() {
        let waiter = state.withLock { state -> CheckedContinuation<Result<PKCS11Session, PKCS11Error>, Never>? in
            if !state.waiting.isEmpty { return state.waiting.removeFirst() }
            state.open -= 1
            return nil
        }
        guard let waiter else { return }
        do {
            waiter.resume(returning: .success(try PKCS11Session(module: module, slot: slot, pin: pin)))
        } catch {
            state.withLock { $0.open -= 1 }
            waiter.resume(returning: .failure(error))
        }
    }
}
