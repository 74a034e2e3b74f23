/// Decides whether a caller may perform an action on a key.
///
/// Until key policies, identity policies and grants are evaluated, this applies what every
/// key's default policy says: the key's own account (its root and its users) may do
/// everything; any other account nothing.
enum Authorization {
    static func authorize(_ context: RequestContext, action: String, key: KMSKey) throws(KMSError) {
        guard context.account == key.account else {
            throw denied(context, action: action, resource: key.arn)
        }
    }

    static func denied(_ context: RequestContext, action: String, resource: String) -> KMSError {
        KMSError(.accessDenied, "User: \(context.principal.arn) is not authorized to perform: \(action) on resource: \(resource) because no resource-based policy allows the \(action) action")
    }
}
